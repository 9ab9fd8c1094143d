import { defineScenarios } from '../fixtures/conformance.js';

defineScenarios('plans');

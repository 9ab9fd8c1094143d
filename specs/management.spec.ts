import { defineScenarios } from '../fixtures/conformance.js';

defineScenarios('management');

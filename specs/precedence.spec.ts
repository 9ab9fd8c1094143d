import { defineScenarios } from '../fixtures/conformance.js';

defineScenarios('precedence');

import { runScenario, scenariosOf, test } from '../fixtures/conformance.js';

for (const { scenario, details } of scenariosOf('ip')) {
  test(scenario.title, details, ({ runner }, testInfo) => runScenario(runner, scenario, testInfo));
}

import { describe, it } from 'vitest';

/** True under CI (`.ci/run` sets CI=true): a missing component or fixture is then a failure. */
export const CI = process.env.CI === 'true';

/** A component or fixture a suite needs, and what to say when it is not there. */
export interface Requirement {
  present: boolean;
  /** E.g. "no fixture model at ../shared/fixtures/models/glove-static-384d". */
  missing: string;
}

type Suite = () => void;
type SuiteOptions = { timeout?: number };

/**
 * `describe` for a suite that needs a component or fixture (chromium, nginx, the fixture
 * model). When it is there the suite runs. When it is missing the suite is skipped on a
 * developer's machine, its title saying what is missing; under CI it fails instead, with one
 * test naming what is missing: a lane never passes by skipping in CI.
 */
export function describeWhenPresent(requirement: Requirement, title: string, ...rest: [Suite] | [SuiteOptions, Suite]): void {
  const [options, suite] = rest.length === 1 ? [{}, rest[0]] : rest;
  if (requirement.present) {
    describe(title, options, suite);
  } else if (CI) {
    describe(title, () => {
      it('has what it needs', () => {
        throw new Error(`${requirement.missing}: this suite needs it, and CI=true does not let it skip`);
      });
    });
  } else {
    describe.skip(`${title} (skipped: ${requirement.missing})`, options, suite);
  }
}

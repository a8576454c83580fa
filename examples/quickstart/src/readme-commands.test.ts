// The README's two set-up commands are what users run on a fresh machine; CI must run the same test
// command, or a green CI hides a missing set-up step.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const REPO = new URL('../../../', import.meta.url);
const readme = readFileSync(new URL('README.md', REPO), 'utf8');
const ciRun = readFileSync(new URL('.ci/run', REPO), 'utf8');

/** The fenced `sh` blocks of the README's set-up section, one command each. */
function setupCommands(): string[] {
  const section = /^## Set up on a fresh machine[^\n]*\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
  return [...section.matchAll(/^```sh\n([^\n]*)\n```$/gm)].map((m) => m[1]!);
}

describe('the README set-up commands', () => {
  it('are two: the demo and the tests, both through scripts/setup.sh', () => {
    expect(setupCommands()).toEqual(['scripts/setup.sh && pnpm start', 'scripts/setup.sh && pnpm test']);
  });

  it('.ci/run runs the README test command exactly, its output piped to the log', () => {
    const testCommand = setupCommands()[1]!;
    const lines = ciRun.split('\n').map((line) => line.trim());
    expect(lines).toContain(`${testCommand} 2>&1 | tee "$log"`);
    // Nothing else in .ci/run installs: the set-up lives in one script.
    expect(ciRun).not.toMatch(/apt-get|pnpm install|npm i(nstall)? /);
  });
});

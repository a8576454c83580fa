import { createProgram } from './program.js';

/** What the `adl` program writes to stderr for these arguments (commander's errors do not exit in tests). */
export async function errorsOf(...args: string[]): Promise<string> {
  const errors: string[] = [];
  const program = createProgram().exitOverride().configureOutput({ writeErr: (text) => errors.push(text) });
  for (const command of program.commands) command.exitOverride().configureOutput({ writeErr: (text) => errors.push(text) });
  await program.parseAsync(['node', 'adl', ...args]).catch(() => undefined);
  return errors.join('');
}

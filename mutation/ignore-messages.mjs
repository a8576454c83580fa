// @ts-check
import { declareValuePlugin, PluginKind } from '@stryker-mutator/api/plugin';

/**
 * Leaves out mutants that change only what a person reads: the text of thrown errors, log lines
 * and progress output. Whether an error is thrown, and when, is still mutated (the condition and
 * the block around a `throw` are outside the statement itself).
 */
function shouldIgnore(path) {
  if (path.isThrowStatement()) return 'error message text';
  if (!path.isCallExpression()) return undefined;
  const callee = path.node.callee;
  if (callee.type === 'Identifier' && callee.name === 'log') return 'log line';
  if ((callee.type === 'MemberExpression' || callee.type === 'OptionalMemberExpression') && callee.object.type === 'Identifier') {
    if (callee.object.name === 'console') return 'log line';
    if (callee.property.type === 'Identifier' && callee.property.name === 'log') return 'log line';
    if (callee.object.name === 'progress') return 'progress display';
  }
  return undefined;
}

export const strykerPlugins = [declareValuePlugin(PluginKind.Ignore, 'messages', { shouldIgnore })];

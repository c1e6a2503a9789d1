import { describe, expect, it } from 'vitest';
import { parseFunctionConfig } from '../../src/config/index.ts';
import { templateFiles, TEMPLATES } from '../../src/cli/templates.ts';

describe('hearth init templates', () => {
  it.each(TEMPLATES)('%s: a valid hearth.json naming the function, a package.json and an entry file', (template) => {
    const files = templateFiles('greeter', template);
    expect(parseFunctionConfig(JSON.parse(files['hearth.json']!)).name).toBe('greeter');
    expect(JSON.parse(files['package.json']!).name).toBe('greeter');
    expect(Object.keys(files).some((f) => /^index\.(ts|js)$/.test(f))).toBe(true);
  });

  it('lambda is CommonJS exports.handler; cron has a schedule; hono depends on hono', () => {
    const lambda = templateFiles('x', 'lambda');
    expect(JSON.parse(lambda['package.json']!).type).toBeUndefined();
    expect(lambda['index.js']).toContain('exports.handler');
    expect(parseFunctionConfig(JSON.parse(templateFiles('x', 'cron')['hearth.json']!)).schedules).toHaveLength(1);
    expect(JSON.parse(templateFiles('x', 'hono')['package.json']!).dependencies).toHaveProperty('hono');
  });
});

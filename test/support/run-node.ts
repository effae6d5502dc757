import { spawn } from 'node:child_process';

/** Runs `node file` (killed after 10 s) and resolves with its exit code and everything it printed. */
export async function runNode(file: string, cwd?: string): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [file], { ...(cwd === undefined ? {} : { cwd }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, out, err };
}

/** Runs the mgd3 command line in this process and captures its exit status and output. */
import assert from "node:assert/strict";
import { main } from "../cli.ts";

/** `main(argv)` with silent progress; fails the test unless it exits with status 0. */
export async function runOk(argv: string[]): Promise<void> {
  const status = await main([...argv, "--progress", "silent"]);
  assert.equal(status, 0, `mgd3 ${argv.join(" ")} failed`);
}

/** `main(argv)` with console.log and console.error captured. */
export async function capture(
  argv: string[],
): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const status = await main(argv);
    return { status, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

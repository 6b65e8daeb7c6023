/** Runs the mgd3 command line in this process and captures its exit status and output. */
import { main } from "../cli.ts";

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

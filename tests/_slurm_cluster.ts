/**
 * A one-node Slurm cluster on this machine for the tests: munged, slurmctld and slurmd as child
 * processes of the test, localhost only, every file (config, state, logs, munge socket) in a
 * temporary folder, ports picked free. Needs Debian's slurm-wlm and munge and root (slurmd runs
 * jobs as their user; the test submits as root).
 */

/** Why the cluster cannot start here, or null when it can. */
export async function slurmMissing(): Promise<string | null> {
  if (Deno.uid() !== 0) return "a one-node Slurm needs root (slurmd starts jobs as their user)";
  for (const tool of ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo"]) {
    const r = await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null" })
      .output();
    if (!r.success) return `${tool} is not installed (apt-get install slurm-wlm munge)`;
  }
  try {
    await Deno.stat("/etc/munge/munge.key");
  } catch {
    return "no /etc/munge/munge.key (the munge package creates it)";
  }
  return null;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function text(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  const r = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!r.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(r.stderr)}`);
  return dec.decode(r.stdout);
}

/** A running cluster. */
export interface SlurmCluster {
  dir: string;
  /** Environment for sbatch/squeue (SLURM_CONF). */
  env: Record<string, string>;
  /** Runs a Slurm client command and returns its stdout. */
  run(cmd: string, ...args: string[]): Promise<string>;
  /** Waits until none of `jobs` is queued or running. */
  waitIdle(jobs: string[], timeoutMs: number): Promise<void>;
  /** The daemons' logs (for a failing test's message). */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts munged, slurmctld and slurmd with `cpus` CPUs on one node named after this host. */
export async function startSlurm(cpus: number): Promise<SlurmCluster> {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-slurm-" });
  const host = (await text("hostname", ["-s"], {})).trim();
  const sock = `${dir}/munge.sock`;
  for (const d of ["state", "spool", "log"]) await Deno.mkdir(`${dir}/${d}`);
  await Deno.writeTextFile(`${dir}/plugstack.conf`, "");
  const conf = `${dir}/slurm.conf`;
  await Deno.writeTextFile(
    conf,
    [
      "ClusterName=mgd3test",
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${freePort()}`,
      `SlurmdPort=${freePort()}`,
      "SlurmUser=root",
      "SlurmdUser=root",
      "AuthType=auth/munge",
      "CredType=cred/munge",
      `AuthInfo=socket=${sock}`,
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd.log`,
      `PlugStackConfig=${dir}/plugstack.conf`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "JobCompType=jobcomp/none",
      "SwitchType=switch/none",
      "MpiDefault=none",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_CPU",
      "SlurmdParameters=config_overrides",
      "ReturnToService=2",
      "SlurmctldTimeout=30",
      "SlurmdTimeout=30",
      "MinJobAge=300",
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=1000 State=UNKNOWN`,
      `PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      "",
    ].join("\n"),
  );
  const env = { SLURM_CONF: conf };
  const procs: Deno.ChildProcess[] = [];
  const spawn = (cmd: string, args: string[]) => {
    procs.push(
      new Deno.Command(cmd, { args, env, stdin: "null", stdout: "null", stderr: "null" }).spawn(),
    );
  };
  spawn("munged", [
    "--foreground",
    "--force",
    `--socket=${sock}`,
    "--key-file=/etc/munge/munge.key",
    `--pid-file=${dir}/munged.pid`,
    `--log-file=${dir}/log/munged.log`,
    `--seed-file=${dir}/munge.seed`,
  ]);
  for (let i = 0; i < 100; i++) {
    if (await Deno.stat(sock).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  spawn("slurmctld", ["-D", "-i", "-f", conf]);
  spawn("slurmd", ["-D", "-f", conf, "-N", host]);
  const run = (cmd: string, ...args: string[]) => text(cmd, args, env);
  const logs = async () => {
    const out: string[] = [];
    for (const f of ["munged", "slurmctld", "slurmd"]) {
      const t = await Deno.readTextFile(`${dir}/log/${f}.log`).catch(() => "(none)");
      out.push(`--- ${f}.log\n${t.split("\n").slice(-20).join("\n")}`);
    }
    return out.join("\n");
  };
  const stop = async () => {
    for (const p of procs.reverse()) {
      try {
        p.kill("SIGTERM");
      } catch {
        // already gone
      }
      await p.status;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const t0 = Date.now();
    for (;;) {
      const state = await run("sinfo", "-h", "-N", "-o", "%t").catch(() => "");
      if (/^(idle|mix|alloc)/m.test(state.trim())) break;
      if (Date.now() - t0 > 60_000) throw new Error(`Slurm node not idle after 60 s (${state})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (e) {
    const l = await logs();
    await stop();
    throw new Error(`${(e as Error).message}\n${l}`);
  }
  return {
    dir,
    env,
    run,
    logs,
    stop,
    async waitIdle(jobs, timeoutMs) {
      const t0 = Date.now();
      for (;;) {
        const q = await run("squeue", "-h", "-j", jobs.join(","), "-o", "%i %T").catch(() => "");
        if (q.trim() === "") return;
        if (Date.now() - t0 > timeoutMs) {
          throw new Error(`jobs still queued: ${q}\n${await logs()}`);
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    },
  };
}

/** What pg_cron says about its jobs in the connected database (the one cron.database_name names). */
import type pg from 'pg';
import type { CronFact, CronJobFact } from './facts.ts';

/**
 * Each active job with its last recorded run (cron.job_run_details, pg_cron 1.3 and later, while
 * cron.log_run is on), and how pg_cron runs them (background workers, or connections to cron.host).
 */
export async function readCronJobs(client: pg.Client): Promise<CronFact> {
  const { rows: head } = await client.query<{ host: string | null; workers: string | null; details: boolean }>(
    `SELECT current_setting('cron.host', true) AS host, current_setting('cron.use_background_workers', true) AS workers,
            to_regclass('cron.job_run_details') IS NOT NULL AS details`,
  );
  const { host, workers, details } = head[0]!;
  const lastRun = details
    ? `LEFT JOIN LATERAL (SELECT d.status, d.return_message, d.start_time FROM cron.job_run_details d
         WHERE d.jobid = j.jobid ORDER BY d.runid DESC LIMIT 1) r ON true`
    : 'LEFT JOIN (SELECT NULL::text AS status, NULL::text AS return_message, NULL::timestamptz AS start_time) r ON true';
  const { rows } = await client.query<{
    jobid: string;
    jobname: string | null;
    schedule: string;
    command: string;
    username: string;
    status: string | null;
    return_message: string | null;
    start_time: Date | null;
  }>(`SELECT j.jobid, j.jobname, j.schedule, j.command, j.username, r.status, r.return_message, r.start_time
      FROM cron.job j ${lastRun} WHERE j.active ORDER BY j.jobid`);
  const jobs: CronJobFact[] = rows.map((r) => ({
    id: Number(r.jobid),
    name: r.jobname ?? undefined,
    schedule: r.schedule,
    command: r.command,
    user: r.username,
    lastStatus: r.status ?? undefined,
    lastMessage: r.return_message ?? undefined,
    lastStart: r.start_time?.toISOString(),
  }));
  return { host: host ?? undefined, backgroundWorkers: workers === 'on', runsRecorded: details, jobs, error: undefined };
}

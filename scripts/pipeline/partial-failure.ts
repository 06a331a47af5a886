/** The error for a step that failed in one database after committing changes in others. */
import { ExitCode, messageOf, PgstrapError } from '../shared/errors.ts';

/** `what` failed in `database` (rolled back there); `done` lists what other databases already committed. */
export function partialFailure(init: { code: string; what: string; database: string; done: string[]; remedy: string; cause: unknown }): PgstrapError {
  return new PgstrapError({
    code: init.code,
    message: `${init.what} in ${init.database} failed, so that database was left as it was: ${messageOf(init.cause)}`,
    details: init.done.length > 0 ? ['already done (committed):', ...init.done.map((c) => `  ${c}`)] : ['no other database was changed by this step'],
    remedy: init.remedy,
    exit: ExitCode.database,
    cause: init.cause,
  });
}

/**
 * The frame of the plan and release commands: arguments parsed first (a usage mistake prints the
 * message and the usage line, exit status 64; `--help` prints the usage, exit 0), then the work,
 * where a mistake of the user's is one line and exit status 2, and anything else a bug (exit 1,
 * with its trace).
 */

/** A mistake in the command line; an empty message asks for the usage text (`--help`). */
export class UsageError extends Error {}

export interface Command<T> {
    /** The command's name, the prefix of every line it prints on stderr. */
    name: string;
    usage: string;
    parse(argv: string[]): T;
    /** Does the work, returns the exit status. */
    run(parsed: T): Promise<number>;
    /** The text of a user's mistake (exit status 2), or undefined for a bug. */
    userMistake(error: unknown): string | undefined;
}

export async function runCommand<T>(command: Command<T>, argv: string[]): Promise<number> {
    let parsed: T;
    try {
        parsed = command.parse(argv);
    } catch (error) {
        if (error instanceof UsageError) {
            console.error(error.message === "" ? command.usage : `${command.name}: ${error.message}\n${command.usage.split("\n")[0]}`);
            return error.message === "" ? 0 : 64;
        }
        throw error;
    }
    try {
        return await command.run(parsed);
    } catch (error) {
        const mistake = command.userMistake(error);
        if (mistake === undefined) {
            throw error;
        }
        console.error(`${command.name}: ${mistake}`);
        return 2;
    }
}

/** Runs `command` when its module is the process's main module, and exits with its status. */
export function runAsMain<T>(command: Command<T>, module: NodeJS.Module): void {
    if (require.main !== module) {
        return;
    }
    runCommand(command, process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error) => {
            console.error(error);
            process.exit(1);
        },
    );
}

/**
 * A mistake of the user's (a bad stack file, output directory, or a conflict between stacks), as
 * opposed to a bug: synth prints its lines, one per problem, and exits with status 2, without a
 * stack trace.
 */
export class UserError extends Error {
    readonly problems: string[];
    readonly heading?: string;
    constructor(problems: string[], heading?: string) {
        super([...(heading === undefined ? [] : [heading]), ...problems].join("\n"));
        this.name = "UserError";
        this.problems = problems;
        this.heading = heading;
    }

    /** What synth prints: each problem on its own line, or under the heading as a list. */
    lines(prefix: string): string[] {
        return this.heading === undefined
            ? this.problems.map((p) => `${prefix}${p}`)
            : [`${prefix}${this.heading}`, ...this.problems.map((p) => `  - ${p}`)];
    }
}

/**
 * `npm run release -- <command>`: the release path for people, CI and a chat bot.
 *
 *   set-version <service> <version> --stack <name>   rewrite one service's version in Pulumi.<name>.yaml
 *   promote <service> --from <stack> --to <stack>    give a service in one stack the version it has in another
 *   notes --from <stack> --to <stack>                 the services whose versions differ, as Markdown
 *
 * The stack file is edited in place: only the bytes of the version scalar change (comments, order,
 * quoting and formatting are kept), and only after the whole edited configuration validated. Then
 * the plan of the working tree against HEAD is printed (`cli/plan.ts`). Bad input (an unknown service
 * or stack, a version Kubernetes labels or image tags reject, a stack file with a YAML error) gets
 * one line and exit status 2, and no file is touched.
 *
 * Exit status: 0 done, 2 bad input, 64 usage, 1 internal failure.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "fs";
import { join } from "path";
import { isMap, isScalar, isSeq, LineCounter, parse, parseDocument, Scalar, YAMLMap } from "yaml";
import { ConfigError, parseStackConfig, resolveServiceExtends } from "../components/config";
import { version as versionSchema } from "../components/config/fields";
import { runAsMain, UsageError } from "./command";
import { formatText } from "./plan-diff";
import { planStack } from "./plan";
import { parseStackFile } from "./stack-file";
import { projectName } from "./synth";

/** A mistake of the caller: one line, exit status 2, nothing written. */
export class ReleaseInputError extends Error {}

export interface StackText {
    stack: string;
    path: string;
    text: string;
}

function stackPath(projectDir: string, stack: string): string {
    return join(projectDir, `Pulumi.${stack}.yaml`);
}

/** The text of `Pulumi.<stack>.yaml`, or an error that lists the stacks present. */
export function readStack(projectDir: string, stack: string): StackText {
    const path = stackPath(projectDir, stack);
    if (!/^[\w.-]+$/.test(stack) || !existsSync(path)) {
        const present = readdirSync(projectDir)
            .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
            .filter((s): s is string => s !== undefined)
            .sort();
        throw new ReleaseInputError(`no stack "${stack}" (Pulumi.${stack}.yaml); stacks here: ${present.join(", ") || "none"}`);
    }
    return { stack, path, text: readFileSync(path, "utf8") };
}

/** The `services` list node of a stack file, checking its YAML first. */
function servicesNode(file: StackText, project: string) {
    const lineCounter = new LineCounter();
    const document = parseDocument(file.text, { lineCounter });
    const error = document.errors[0];
    if (error !== undefined) {
        const at = error.linePos?.[0];
        throw new ReleaseInputError(
            `${file.path}${at === undefined ? "" : `:${at.line}:${at.col}`}: ${error.message.split("\n")[0]} (YAML syntax)`,
        );
    }
    const config = document.get("config", true);
    const services = isMap(config) ? (config.get(`${project}:services`, true) ?? config.get("services", true)) : undefined;
    if (!isSeq(services)) {
        throw new ReleaseInputError(`${file.path}: has no ${project}:services list`);
    }
    return services;
}

function serviceEntry(file: StackText, project: string, service: string): YAMLMap {
    const services = servicesNode(file, project);
    const entries = services.items.filter((item): item is YAMLMap => isMap(item));
    const entry = entries.find((item) => item.get("name") === service);
    if (entry === undefined) {
        const names = entries.map((item) => String(item.get("name"))).sort();
        throw new ReleaseInputError(`${file.path}: no service "${service}"; services: ${names.join(", ")}`);
    }
    return entry;
}

/** A version as a YAML scalar in the style of the one it replaces, that reads back as the same string. */
function scalarText(version: string, style: Scalar["type"]): string {
    if (style === "QUOTE_SINGLE") {
        return `'${version.replace(/'/g, "''")}'`;
    }
    if (style !== "QUOTE_DOUBLE" && parse(version) === version) {
        return version;
    }
    return JSON.stringify(version);
}

function checkVersion(version: string): void {
    const result = versionSchema.safeParse(version);
    if (!result.success) {
        throw new ReleaseInputError(`version ${JSON.stringify(version)}: ${result.error.issues[0].message}`);
    }
}

/** Validates a whole stack file's configuration as `pulumi up` would. */
function validate(file: StackText, project: string, text: string): void {
    const parsed = parseStackFile(text, project, file.path);
    try {
        parseStackConfig(parsed.configMap, file.stack, { secretKeys: parsed.secretKeys, secretPaths: parsed.placeholders });
    } catch (error) {
        if (error instanceof ConfigError) {
            throw new ReleaseInputError(`${file.path} would not validate with this change: ${error.message}`);
        }
        throw error;
    }
}

/**
 * The text of the stack file with `service`'s own `version` set to `version`: only the bytes of
 * that scalar change. Throws {@link ReleaseInputError} for an unknown service, a service that
 * inherits its version through `extends`, a rejected version or an edit that does not validate.
 */
export function setVersionText(file: StackText, project: string, service: string, version: string): string {
    checkVersion(version);
    const entry = serviceEntry(file, project, service);
    const node = entry.get("version", true);
    if (!isScalar(node) || node.range === undefined || node.range === null) {
        const base = entry.get("extends");
        throw new ReleaseInputError(
            typeof base === "string"
                ? `${file.path}: service "${service}" takes its version from "${base}" (extends); set the version of "${base}", or give "${service}" a version of its own first`
                : `${file.path}: service "${service}" has no version to set`,
        );
    }
    const [start, end] = node.range;
    const text = file.text.slice(0, start) + scalarText(version, node.type) + file.text.slice(end);
    validate(file, project, text);
    return text;
}

/** Writes through a temporary sibling and a rename, so a reader never sees half a file. */
function writeAtomically(path: string, text: string): void {
    const temporary = `${path}.release-${process.pid}`;
    writeFileSync(temporary, text);
    renameSync(temporary, path);
}

/** Every service's effective version (its own, else its base's through `extends`). */
export function serviceVersions(file: StackText, project: string): Map<string, string> {
    const parsed = parseStackFile(file.text, project, file.path);
    const raw = JSON.parse(parsed.configMap[`${project}:services`] ?? "[]") as unknown;
    const resolved = resolveServiceExtends(raw, () => undefined) as { name?: unknown; version?: unknown }[];
    return new Map(
        resolved
            .filter((s) => typeof s.name === "string")
            .map((s) => [s.name as string, typeof s.version === "string" ? s.version : String(s.version ?? "")] as [string, string])
            .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
}

/** Release notes from one stack to another: the services whose versions differ. */
export function releaseNotes(from: StackText, to: StackText, project: string): string {
    // Both files are checked first, so a YAML error is one clear line, not a parse trace.
    servicesNode(from, project);
    servicesNode(to, project);
    const source = serviceVersions(from, project);
    const target = serviceVersions(to, project);
    const lines = [`## Release notes: ${from.stack} -> ${to.stack}`, ""];
    const changed = [...source].filter(([name, version]) => target.has(name) && target.get(name) !== version);
    if (changed.length === 0) {
        lines.push(`Every service in both stacks has the same version.`);
    } else {
        lines.push(`| service | ${to.stack} now | ${from.stack} |`, "|---|---|---|");
        lines.push(...changed.map(([name, version]) => `| ${name} | ${target.get(name)} | ${version} |`));
    }
    const onlyFrom = [...source.keys()].filter((name) => !target.has(name));
    const onlyTo = [...target.keys()].filter((name) => !source.has(name));
    if (onlyFrom.length > 0) {
        lines.push("", `Only in ${from.stack}: ${onlyFrom.map((n) => `${n} ${source.get(n)}`).join(", ")}`);
    }
    if (onlyTo.length > 0) {
        lines.push("", `Only in ${to.stack}: ${onlyTo.map((n) => `${n} ${target.get(n)}`).join(", ")}`);
    }
    return `${lines.join("\n")}\n`;
}

const USAGE = `usage: npm run release -- <command>

  set-version <service> <version> --stack <name>   set one service's version in Pulumi.<name>.yaml
  promote <service> --from <stack> --to <stack>    give the service in <to> its version in <from>
  notes --from <stack> --to <stack>                 Markdown release notes: the versions that differ

set-version and promote change only the version in the stack file (comments and formatting kept),
after the whole configuration validated, then print the plan against HEAD. Options also take the
form --stack=<name>. Exit status: 0 done, 2 bad input (nothing written), 64 usage, 1 internal failure.`;

interface Parsed {
    command: "set-version" | "promote" | "notes";
    positional: string[];
    options: Record<string, string>;
}

export function parseReleaseArgs(argv: string[]): Parsed {
    const positional: string[] = [];
    const options: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--help" || arg === "-h") {
            throw new UsageError("");
        }
        const match = /^--(stack|from|to)(?:=(.*))?$/.exec(arg);
        if (match !== null) {
            const value = match[2] ?? argv[++i];
            if (value === undefined || value === "" || value.startsWith("--")) {
                throw new UsageError(`--${match[1]} needs a value`);
            }
            options[match[1]] = value;
        } else if (arg.startsWith("--")) {
            throw new UsageError(`unknown option ${arg}`);
        } else {
            positional.push(arg);
        }
    }
    const [command, ...rest] = positional;
    const expected: Record<string, { args: number; options: string[] }> = {
        "set-version": { args: 2, options: ["stack"] },
        promote: { args: 1, options: ["from", "to"] },
        notes: { args: 0, options: ["from", "to"] },
    };
    const shape = command === undefined ? undefined : expected[command];
    if (shape === undefined) {
        throw new UsageError(command === undefined ? "a command is required" : `unknown command ${command}`);
    }
    if (rest.length !== shape.args) {
        throw new UsageError(`${command} takes ${shape.args} argument${shape.args === 1 ? "" : "s"}, got ${rest.length}`);
    }
    for (const name of shape.options) {
        if (options[name] === undefined) {
            throw new UsageError(`${command} needs --${name}`);
        }
    }
    const extra = Object.keys(options).filter((o) => !shape.options.includes(o));
    if (extra.length > 0) {
        throw new UsageError(`${command} does not take --${extra[0]}`);
    }
    return { command: command as Parsed["command"], positional: rest, options };
}

/** Runs a parsed command in `projectDir`; returns what to print. */
export async function runRelease(parsed: Parsed, projectDir: string): Promise<string> {
    const project = projectName(projectDir);
    if (parsed.command === "notes") {
        return releaseNotes(readStack(projectDir, parsed.options.from), readStack(projectDir, parsed.options.to), project);
    }
    let target: StackText;
    let service: string;
    let version: string;
    if (parsed.command === "promote") {
        service = parsed.positional[0];
        const source = readStack(projectDir, parsed.options.from);
        target = readStack(projectDir, parsed.options.to);
        serviceEntry(source, project, service);
        version = serviceVersions(source, project).get(service) as string;
    } else {
        [service, version] = parsed.positional;
        target = readStack(projectDir, parsed.options.stack);
    }
    const text = setVersionText(target, project, service, version);
    if (text === target.text) {
        return `release: ${service} is already at ${version} in ${target.path}; nothing to change\n`;
    }
    writeAtomically(target.path, text);
    const said = `release: ${service} -> ${version} in ${target.path}\n`;
    try {
        const { plan, title } = await planStack({ stack: target.stack, base: "HEAD", projectDir });
        return `${said}\n${formatText(plan, title)}`;
    } catch (error) {
        // The edit is written and valid; a plan needs a git checkout (the chat bot's may be a plain copy).
        return `${said}(no plan: ${(error as Error).message.split("\n")[0]})\n`;
    }
}

runAsMain(
    {
        name: "release",
        usage: USAGE,
        parse: parseReleaseArgs,
        async run(parsed) {
            process.stdout.write(await runRelease(parsed, process.cwd()));
            return 0;
        },
        userMistake: (error) => (error instanceof ReleaseInputError ? error.message : undefined),
    },
    module,
);

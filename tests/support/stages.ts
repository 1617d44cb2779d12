/**
 * `node -r ./cli/register.js tests/support/stages.ts <npm script>...`: the static checks of
 * `npm test` (type check, eslint, prettier, dependency rules), run at the same time. Each is a
 * single-threaded process, so on a machine with two or more cores they overlap instead of queueing.
 * Each script's output is kept and printed whole when it ends, under a header with its status and
 * time; the exit status is 1 when any of them failed.
 */
import { spawn } from "child_process";

interface StageResult {
    script: string;
    code: number | null;
    output: string;
    seconds: number;
}

function runScript(script: string): Promise<StageResult> {
    const started = process.hrtime.bigint();
    const npm = process.env.npm_execpath;
    const [command, args] =
        npm !== undefined && npm.endsWith(".js")
            ? [process.execPath, [npm, "run", "--silent", script]]
            : ["npm", ["run", "--silent", script]];
    return new Promise((resolve) => {
        const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
        const chunks: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
        const finish = (code: number | null, extra = "") =>
            resolve({
                script,
                code,
                output: Buffer.concat(chunks).toString("utf8") + extra,
                seconds: Number(process.hrtime.bigint() - started) / 1e9,
            });
        child.on("error", (error) => finish(null, `${error.message}\n`));
        child.on("close", (code) => finish(code));
    });
}

async function main(scripts: string[]): Promise<number> {
    if (scripts.length === 0) {
        console.error("usage: tests/support/stages.ts <npm script>...");
        return 64;
    }
    const started = process.hrtime.bigint();
    console.log(`test: ${scripts.join(", ")} at the same time`);
    const results = await Promise.all(
        scripts.map((script) =>
            runScript(script).then((result) => {
                const status = result.code === 0 ? "ok" : `FAILED (exit status ${result.code ?? "none"})`;
                console.log(`--- ${script}: ${status}, ${result.seconds.toFixed(1)} s`);
                if (result.output.trim() !== "") {
                    console.log(result.output.trimEnd());
                }
                return result;
            }),
        ),
    );
    const failed = results.filter((r) => r.code !== 0).map((r) => r.script);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`test: static checks ${failed.length === 0 ? "passed" : `failed: ${failed.join(", ")}`} in ${seconds.toFixed(1)} s`);
    return failed.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
        console.error(error);
        process.exit(1);
    },
);

/**
 * Two stacks of one project must never act on the same things: a stack applied with another's
 * cluster name would fight over that EKS cluster, one writing another's GitOps directory
 * (`<manifestsPath>/<environment>`, what Argo CD syncs) would overwrite its manifests, and two
 * serving one hostname would split its traffic and certificates. Synth compares the stack it renders
 * with every other `Pulumi.*.yaml` of the project and names both files.
 *
 * Other stack files are read from their raw values, with the program's defaults, so that a mistake
 * elsewhere in them does not hide a conflict; a file that is not readable YAML is skipped (its own
 * synth reports it).
 */
import { join, posix } from "path";
import { DEFAULTS, PROJECT } from "../components/config";
import { readStackFile, StackFile, StackFileError } from "./stack-file";

/** What a stack claims for itself. */
export interface StackClaims {
    file: string;
    clusterName?: string;
    /** `<manifestsPath>/<environment>`, normalised; only in `delivery.mode: argocd` (the default). */
    gitopsDirectory?: string;
    /** Lower-cased hostnames of `hosts[]`. */
    hostnames: string[];
}

function json(configMap: Record<string, string>, key: string): unknown {
    const raw = configMap[`${PROJECT}:${key}`];
    if (raw === undefined) {
        return undefined;
    }
    try {
        return JSON.parse(raw);
    } catch {
        return raw;
    }
}

function field(value: unknown, name: string): unknown {
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;
}

/** The cluster name, GitOps directory and hostnames a stack file sets (raw values, defaults applied). */
export function stackClaims(file: string, stackFile: StackFile): StackClaims {
    const { configMap } = stackFile;
    const clusterName = field(json(configMap, "cluster"), "name");
    const environment = configMap[`${PROJECT}:environment`];
    const delivery = json(configMap, "delivery");
    const mode = field(delivery, "mode") ?? "argocd";
    const manifestsPath = field(delivery, "manifestsPath") ?? DEFAULTS.manifestsPath;
    const hosts = json(configMap, "hosts");
    return {
        file,
        clusterName: typeof clusterName === "string" ? clusterName : undefined,
        gitopsDirectory:
            mode === "argocd" && typeof manifestsPath === "string" && typeof environment === "string"
                ? posix.normalize(`${manifestsPath}/${environment}`).replace(/\/+$/, "")
                : undefined,
        hostnames: Array.isArray(hosts)
            ? hosts
                  .map((h) => field(h, "hostname"))
                  .filter((h): h is string => typeof h === "string")
                  .map((h) => h.toLowerCase())
            : [],
    };
}

/** One line per thing `mine` shares with another stack; empty when it shares nothing. */
export function stackConflicts(mine: StackClaims, others: StackClaims[]): string[] {
    const problems: string[] = [];
    for (const other of others) {
        const both = `${mine.file} and ${other.file}`;
        if (mine.clusterName !== undefined && mine.clusterName === other.clusterName) {
            problems.push(
                `${both} both use the cluster name "${mine.clusterName}" (${PROJECT}:cluster.name): each stack needs its own EKS cluster`,
            );
        }
        if (mine.gitopsDirectory !== undefined && mine.gitopsDirectory === other.gitopsDirectory) {
            problems.push(
                `${both} both write Argo CD manifests to "${mine.gitopsDirectory}" (${PROJECT}:delivery.manifestsPath/${PROJECT}:environment): ` +
                    "one would overwrite the other's GitOps directory",
            );
        }
        for (const hostname of mine.hostnames.filter((h) => other.hostnames.includes(h))) {
            problems.push(`${both} both serve the hostname "${hostname}" (${PROJECT}:hosts): each environment needs its own hostnames`);
        }
    }
    return problems;
}

/** Compares the stack `stack` of a project directory with the project's other stack files. */
export function projectStackConflicts(projectDir: string, stack: string, stackFile: StackFile, otherStacks: string[]): string[] {
    const others = otherStacks.flatMap((name) => {
        const file = `Pulumi.${name}.yaml`;
        try {
            return [stackClaims(file, readStackFile(join(projectDir, file), PROJECT))];
        } catch (error) {
            if (error instanceof StackFileError) {
                return [];
            }
            throw error;
        }
    });
    return stackConflicts(stackClaims(`Pulumi.${stack}.yaml`, stackFile), others);
}

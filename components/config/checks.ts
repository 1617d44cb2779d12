/**
 * Rules across entries and sections, run on whatever parsed: each rule runs when the sections it
 * reads parsed, and a rule that concludes something is missing ("no worker pool") runs only when
 * the list it looks in parsed in full. Names other entries refer to are read from the entries as
 * written, so an entry with an unrelated problem is still found by name.
 */
import { checkName } from "../shared";
import { AddonsConfig, checkAddons } from "./addons";
import { checkDerivedNames, NameSources } from "./derived-names";
import { checkUnique, isRecord, rawValues, Report } from "./fields";
import { checkGateways, GatewayConfig } from "./gateway";
import { checkPlatform, EcrConfig, NetworkConfig, ScheduleConfig, StaticAssetsConfig } from "./platform";
import { BackendConfig, checkRateLimits, GlobalLimitConfig, RateLimitsConfig } from "./rate-limits";
import {
    ClusterConfig,
    DeliveryConfig,
    HostConfig,
    NODE_GROUP_PREFIX_MAX,
    nodeGroupNamePrefix,
    NodePoolConfig,
    StackConfig,
} from "./schema";
import { checkServices, ServiceConfig } from "./service";

/** A list section parsed entry by entry. */
export interface ParsedList<T> {
    /** The entries that parsed, at their index; undefined where an entry has problems. */
    items: (T | undefined)[];
    /** Every entry parsed and the list itself is valid (length). */
    complete: boolean;
}

/** The sections that parsed; a section that did not (or was misspelt) is absent. */
export interface ParsedSections {
    environment?: string;
    environmentOverride?: { reason: string };
    appNamespace?: string;
    cluster?: ClusterConfig;
    nodePools?: ParsedList<NodePoolConfig>;
    hosts?: ParsedList<HostConfig>;
    gateways?: ParsedList<GatewayConfig>;
    services?: ParsedList<ServiceConfig>;
    rateLimits?: RateLimitsConfig;
    /** `rateLimits.global.limits`, parsed limit by limit (with the limits as written, for names). */
    rateLimitEntries?: ParsedList<GlobalLimitConfig> & { raw: unknown };
    backends?: ParsedList<BackendConfig>;
    delivery?: DeliveryConfig;
    timeZone?: string;
    addons?: AddonsConfig;
    staticAssets?: StaticAssetsConfig;
    ecr?: EcrConfig;
    schedule?: ScheduleConfig;
    network?: NetworkConfig;
}

function complete<T>(list: ParsedList<T> | undefined): T[] | undefined {
    return list?.complete === true ? (list.items as T[]) : undefined;
}

/**
 * Every rule across entries and sections. `raw` is the configuration as written (after
 * `extends`), `stack` the stack name, `describe` formats a path for messages.
 */
export function checkAcrossSections(
    parsed: ParsedSections,
    raw: Record<string, unknown>,
    stack: string | undefined,
    report: Report,
    describe: (path: (string | number)[]) => string,
): void {
    checkEnvironment(parsed, raw, stack, report);
    // The cluster's name, also when another cluster field has a problem (said at that field).
    const rawName = isRecord(raw.cluster) ? raw.cluster.name : undefined;
    const clusterName =
        parsed.cluster?.name ?? (typeof rawName === "string" && checkName("dns1123Label", rawName) === undefined ? rawName : undefined);

    // Node pools.
    const pools = parsed.nodePools;
    if (pools !== undefined) {
        checkUnique(report, raw.nodePools, "name", ["nodePools"]);
        const all = complete(pools);
        if (all !== undefined && !all.some((p) => p.role === "worker")) {
            report(["nodePools"], 'needs at least one pool with role "worker": services run on worker nodes');
        }
        const gatewayCount = Array.isArray(raw.gateways) ? raw.gateways.length : 0;
        if (all !== undefined && gatewayCount > 0 && !all.some((p) => p.role === "gateway")) {
            report(["nodePools"], 'needs a pool with role "gateway": gateways run on dedicated gateway nodes (docs/design.md §4)');
        }
        pools.items.forEach((pool, i) => {
            if (pool === undefined || clusterName === undefined) {
                return;
            }
            const prefix = nodeGroupNamePrefix(clusterName, pool.name);
            if (prefix.length > NODE_GROUP_PREFIX_MAX) {
                report(
                    ["nodePools", i, "name"],
                    `the node group name prefix "${prefix}" (cluster.name, the pool name and two '-') is ${prefix.length} characters long, more than the ${NODE_GROUP_PREFIX_MAX} AWS allows (63 minus the provider's 26-character unique suffix): shorten the pool name or cluster.name`,
                );
            }
        });
    }

    // Hosts, gateways, services.
    checkUnique(report, raw.hosts, "name", ["hosts"]);
    checkUnique(report, raw.hosts, "hostname", ["hosts"]);
    const hostNames = parsed.hosts === undefined ? undefined : rawValues(raw.hosts, "name");
    if (parsed.gateways !== undefined) {
        checkGateways(parsed.gateways.items, raw.gateways, hostNames, report);
    }
    if (parsed.services !== undefined) {
        checkServices(parsed.services.items, raw.services, hostNames, report);
    }
    if (parsed.services !== undefined && Array.isArray(raw.gateways)) {
        const servedHosts = new Set(
            // Stryker disable next-line ArrayDeclaration: equivalent, a host name is a DNS label and never "Stryker was here".
            raw.gateways.flatMap((g): unknown[] => (isRecord(g) && Array.isArray(g.hosts) ? g.hosts : [])),
        );
        parsed.services.items.forEach((service, s) =>
            service?.routes.forEach((route, r) => {
                if (hostNames?.has(route.host) === true && !servedHosts.has(route.host)) {
                    report(
                        ["services", s, "routes", r, "host"],
                        `"${route.host}" is served by no gateway: add it to a gateways[].hosts list`,
                    );
                }
            }),
        );
    }

    // Rate limits.
    checkRateLimits(parsed.rateLimits, parsed.rateLimitEntries, complete(parsed.backends), raw.backends, report, {
        services: complete(parsed.services),
        gateways: complete(parsed.gateways),
        clusterName,
    });

    // Add-ons and the deployer's path to the cluster.
    if (parsed.cluster !== undefined && parsed.addons !== undefined) {
        checkAddons({ cluster: parsed.cluster, addons: parsed.addons }, report);
    }

    // Static assets, ECR, the night schedule and the network (platform.ts).
    checkPlatform(
        {
            environment: parsed.environment,
            staticAssetsWritten: raw.staticAssets !== undefined,
            staticAssets: parsed.staticAssets,
            schedule: parsed.schedule,
            ecr: parsed.ecr,
            services: parsed.services?.items,
            cluster: parsed.cluster,
            networkWritten: raw.network !== undefined,
            network: parsed.network,
        },
        report,
    );

    checkDerivedNames(nameSources(parsed), report, describe);
}

/** A validated configuration as sources of object names. */
export function configNameSources(config: StackConfig): NameSources {
    // Stryker disable next-line BooleanLiteral: equivalent, nameSources reads only the items of a list.
    const all = <T>(items: T[]): ParsedList<T> => ({ items, complete: true });
    return nameSources({
        ...config,
        nodePools: all(config.nodePools),
        hosts: all(config.hosts),
        gateways: all(config.gateways),
        services: all(config.services),
        backends: all(config.backends),
    });
}

/** The parsed sections as sources of object names. */
export function nameSources(parsed: ParsedSections): NameSources {
    return {
        environment: parsed.environment,
        appNamespace: parsed.appNamespace,
        hosts: parsed.hosts?.items,
        gateways: parsed.gateways?.items,
        services: parsed.services?.items,
        rateLimit: parsed.rateLimits?.global,
        argocd:
            parsed.delivery === undefined
                ? undefined
                : { namespace: parsed.delivery.argocdNamespace, mode: parsed.delivery.mode, backup: parsed.delivery.backup !== undefined },
        addons: parsed.addons,
    };
}

/**
 * The stack name and `environment` must agree: a stack file copied to a new stack
 * (`cp Pulumi.dev.yaml Pulumi.qa.yaml`) would otherwise deploy into dev's cluster and overwrite
 * dev's GitOps directory. `environmentOverride` allows a difference and says why.
 */
function checkEnvironment(parsed: ParsedSections, raw: Record<string, unknown>, stack: string | undefined, report: Report): void {
    const environment = parsed.environment;
    if (stack === undefined || environment === undefined) {
        return;
    }
    if (stack !== environment && raw.environmentOverride === undefined) {
        report(
            ["environment"],
            `"${environment}" is not the name of this stack, "${stack}": a stack file copied from another stack would deploy into that environment's cluster, hosts and GitOps directory. ` +
                `Set environment: ${stack} (with its own cluster.name, hosts and delivery), or, if this stack deploys environment "${environment}" on purpose, set environmentOverride: {reason: "<why>"}`,
        );
    }
    if (stack === environment && parsed.environmentOverride !== undefined) {
        report(["environmentOverride"], `is set, but the stack "${stack}" and its environment agree: remove it`);
    }
}

/**
 * The global rate limit component (`bff-platform:ratelimit:GlobalRateLimit`): `rateLimits.global`
 * becomes the envoyproxy/ratelimit service with its descriptors, its Redis (in-cluster, or
 * ElastiCache with a secret AUTH token) and the two EnvoyFilters on each gateway that send every
 * request's descriptors to it. render.ts builds the Kubernetes objects as data; this class
 * registers them, all through the provider it is given (the cluster's: these are platform
 * objects, and the Secret must never be rendered into the Argo CD directory).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GlobalRateLimitConfig, elasticacheOf } from "../config";
import { createKubeObject, inheritedDependsOn } from "../shared";
import { pathRegexWarning } from "./descriptors";
import { createElastiCacheRedis, ElastiCacheRedis } from "./elasticache";
import { GlobalRateLimitContext, REDIS_SECRET_KEYS, renderGlobalRateLimit, RenderedGlobalRateLimit } from "./render";

export * from "./descriptors";
export * from "./elasticache";
export * from "./render";

export interface GlobalRateLimitArgs extends GlobalRateLimitContext {
    /** `rateLimits.global` of the stack config. */
    global: GlobalRateLimitConfig;
    /** Where ElastiCache goes (`redis: elasticache`). */
    aws?: {
        clusterName: string;
        vpcId: pulumi.Input<string>;
        privateSubnetIds: pulumi.Input<string>[];
        tags: Record<string, string>;
        /** AUTH token, e.g. from a secrets manager; default: a generated RandomPassword. */
        authToken?: pulumi.Input<string>;
    };
}

export class GlobalRateLimit extends pulumi.ComponentResource {
    readonly rendered: RenderedGlobalRateLimit;
    readonly elastiCache?: ElastiCacheRedis;
    /** The Secret ratelimit reads REDIS_URL and REDIS_AUTH from (ElastiCache only). */
    readonly redisSecret?: k8s.core.v1.Secret;

    constructor(name: string, args: GlobalRateLimitArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bff-platform:ratelimit:GlobalRateLimit", name, {}, opts);
        const rendered = renderGlobalRateLimit(args.global, args);
        this.rendered = rendered;
        args.global.limits.forEach((limit, l) => {
            const warning = limit.pathRegex === undefined ? undefined : pathRegexWarning(limit.pathRegex);
            if (warning !== undefined) {
                void pulumi.log.warn(`rateLimits.global.limits[${l}].pathRegex: ${warning}`, this);
            }
        });
        const inherited = inheritedDependsOn(opts);
        const parent = { parent: this, dependsOn: inherited };

        const before: pulumi.Input<pulumi.Resource>[] = [...inherited, createKubeObject(rendered.configMap, parent)];
        for (const object of rendered.redis) {
            before.push(createKubeObject(object, parent));
        }
        if (args.global.redis === "elasticache") {
            if (args.aws === undefined) {
                throw new Error("GlobalRateLimit: redis elasticache needs the aws settings (cluster name, VPC, subnets)");
            }
            const { clusterName, vpcId, privateSubnetIds, tags, authToken } = args.aws;
            const redis = createElastiCacheRedis(
                { clusterName, vpcId, subnetIds: privateSubnetIds, settings: elasticacheOf(args.global), tags, authToken },
                this,
            );
            this.elastiCache = redis;
            this.redisSecret = connectionSecret(rendered, redis, this, inherited);
            before.push(this.redisSecret);
        }
        createKubeObject(rendered.deployment, { parent: this, dependsOn: before });
        for (const object of [rendered.service, rendered.podDisruptionBudget, rendered.networkPolicy, ...rendered.envoyFilters]) {
            createKubeObject(object, parent);
        }
        // Stryker disable next-line CallExpression: equivalent, the component has no outputs to register.
        this.registerOutputs({});
    }
}

/**
 * The Secret ratelimit reads REDIS_URL and REDIS_AUTH from: always applied to the cluster, never
 * rendered into the Argo CD directory; the typed class keeps `data` and `stringData` secret in the
 * state, and the reviewed output shows them masked.
 */
function connectionSecret(
    rendered: RenderedGlobalRateLimit,
    redis: ElastiCacheRedis,
    parent: pulumi.Resource,
    dependsOn: pulumi.Input<pulumi.Resource>[],
): k8s.core.v1.Secret {
    const { names, labels } = rendered;
    return new k8s.core.v1.Secret(
        names.redisSecret,
        {
            metadata: { name: names.redisSecret, namespace: names.namespace, labels },
            type: "Opaque",
            stringData: { [REDIS_SECRET_KEYS.url]: redis.url, [REDIS_SECRET_KEYS.auth]: redis.authToken },
        },
        { parent, dependsOn },
    );
}

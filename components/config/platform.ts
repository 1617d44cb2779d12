/**
 * The AWS platform sections around the cluster: static assets on S3 + CloudFront (and each
 * service's upload of them), ECR repositories, the dev/QA night schedule and the cost budget.
 */
import { z } from "zod";
import { checkName, staticUploadJobName } from "../shared";
import { PLATFORM_DEFAULTS } from "./defaults";
import { positiveInt, Report } from "./fields";

/** S3 bucket names: 3-63 lowercase letters, digits, '.', '-', starting and ending with a letter or digit. */
const bucketName = z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "must be an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'" })
    .refine((v) => !/\.\.|^\d+\.\d+\.\d+\.\d+$|^xn--|-s3alias$/.test(v), {
        error: "must be an S3 bucket name (no '..', not an IP address, no xn-- prefix or -s3alias suffix)",
    });

/** A relative path inside a package or a bucket: segments of letters, digits, '.', '_', '-'. */
const relativePath = z.string().regex(/^[\w.-]+(\/[\w.-]+)*$/, { error: "must be a relative path such as dist or assets/js" });

export const staticAssetsSchema = z.strictObject({
    /** S3 bucket of this environment's static files (globally unique; created and protected). */
    bucket: bucketName,
    /** Host names CloudFront answers for, e.g. `static.example.com`; need `certificateArn`. Default: none (the distribution's own domain). */
    aliases: z
        .array(z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, { error: "must be a host name" }))
        .default([]),
    /** ACM certificate for the aliases; CloudFront only reads certificates in us-east-1. */
    certificateArn: z
        .string()
        .regex(/^arn:aws:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/, {
            error: "must be an ACM certificate ARN in us-east-1 (CloudFront reads no other region)",
        })
        .optional(),
    /** WAF web ACL (scope CLOUDFRONT, so in us-east-1) in front of the distribution. Default: none. */
    webAclArn: z
        .string()
        .regex(/^arn:aws:wafv2:us-east-1:\d{12}:global\/webacl\/[\w-]+\/[0-9a-f-]{36}$/, {
            error: "must be a WAF web ACL ARN of scope CLOUDFRONT (arn:aws:wafv2:us-east-1:…:global/webacl/…)",
        })
        .optional(),
    /** CloudFront price class. */
    priceClass: z.enum(["PriceClass_100", "PriceClass_200", "PriceClass_All"]).default(PLATFORM_DEFAULTS.staticAssets.priceClass),
    /** Path patterns of content-hashed files, cached for a year and `immutable`; everything else is an entry file with a short cache. */
    immutablePathPatterns: z
        .array(z.string().regex(/^[\w.*?/-]+$/, { error: "must be a CloudFront path pattern such as */assets/*" }))
        .default([...PLATFORM_DEFAULTS.staticAssets.immutablePathPatterns]),
    /** Seconds an entry file (index.js, manifest.json) is cached by CloudFront and browsers. */
    entryMaxAgeSeconds: z.number().int().min(0).max(86400).default(PLATFORM_DEFAULTS.staticAssets.entryMaxAgeSeconds),
    /** Days a replaced or deleted object's old version is kept (versioning is on). */
    noncurrentVersionDays: positiveInt.default(PLATFORM_DEFAULTS.staticAssets.noncurrentVersionDays),
    /** npm registry the upload Jobs download release packages from. */
    npmRegistry: z.url({ protocol: /^https$/, error: "must be an https:// URL" }).default(PLATFORM_DEFAULTS.staticAssets.npmRegistry),
    /** Kubernetes Secret (in the app namespace, from the secrets repository) holding a read token for a private registry. Default: none. */
    npmTokenSecret: z
        .strictObject({
            name: z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, { error: "must be a Secret name" }),
            key: z.string().regex(/^[-._a-zA-Z0-9]+$/, { error: "must be a Secret key" }),
        })
        .optional(),
});

/** A service's static files: the npm package of its release and what of it to upload. */
export const serviceStaticAssetsSchema = z.strictObject({
    /** npm package released with the service, e.g. `@example/pc-web-assets`; its version is the service's `version`. */
    npmPackage: z.string().regex(/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/, {
        error: "must be an npm package name such as @example/pc-web-assets",
    }),
    /** Directory inside the package whose files are hosted. */
    distDir: relativePath.default("dist"),
    /** Directory under the service's prefix in the bucket. Default: the prefix itself. */
    uploadDir: relativePath.optional(),
    /** Key prefix of the service in the bucket; its upload identity may write only below it. Default: the service name. */
    prefix: relativePath.optional(),
});

export const ecrSchema = z.strictObject({
    /** One repository per service (`<partOf>/<service>`); a service's `image: ecr` resolves to it. */
    enabled: z.boolean().default(false),
    /** Release images kept per repository; older ones expire. */
    keepReleases: z.number().int().min(1).max(1000).default(PLATFORM_DEFAULTS.ecr.keepReleases),
    /** Days an untagged image (a failed or replaced push) is kept. */
    untaggedDays: positiveInt.default(PLATFORM_DEFAULTS.ecr.untaggedDays),
});

/** Five cron fields (minute hour day-of-month month day-of-week), as Auto Scaling's scheduled actions read them. */
const cron = z.string().regex(/^(\S+\s+){4}\S+$/, { error: 'must be five cron fields such as "0 21 * * 1-5"' });

export const scheduleSchema = z.strictObject({
    /** When the node groups scale to zero, e.g. "0 21 * * 1-5" (21:00 on weekdays). */
    stopCron: cron,
    /** When they come back with their configured sizes, e.g. "0 8 * * 1-5". */
    startCron: cron,
    /** IANA time zone of both schedules. */
    timeZone: z.string().regex(/^[A-Za-z]+(\/[A-Za-z_+-]+)*$|^UTC$/, { error: "must be an IANA time zone such as Asia/Tokyo" }),
});

export const costSchema = z.strictObject({
    /** Monthly budget in USD; synth warns when the estimate at maximum node counts exceeds it. */
    monthlyBudgetUsd: z.number().positive().optional(),
});

/** An IPv4 CIDR whose host bits are zero, e.g. 10.20.0.0/16. */
function cidrProblem(cidr: string): string | undefined {
    const [address, prefixText] = cidr.split("/");
    const prefix = Number(prefixText);
    const value = address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
    if (prefix < 16 || prefix > 22) {
        return `/${prefix} is outside /16../22: AWS allows VPCs of /16 to /28, and each public subnet is 1/64 of the VPC (at least the /28 AWS allows)`;
    }
    const hostBits = 2 ** (32 - prefix);
    return value % hostBits === 0 ? undefined : `has host bits set: the network address of a /${prefix} ends in a multiple of ${hostBits}`;
}

export const networkSchema = z.strictObject({
    /** Build the VPC in this stack; otherwise `cluster.vpcId` and `cluster.privateSubnetIds` name an existing one. Default: false. */
    create: z.boolean().default(false),
    /** IPv4 CIDR of the VPC, /16 to /22, e.g. 10.20.0.0/16: each AZ's private subnet takes 1/8 of it, its public subnet 1/64. Required with `create`. */
    cidr: z
        .cidrv4({ error: "must be an IPv4 CIDR such as 10.20.0.0/16" })
        .superRefine((cidr, ctx) => {
            const problem = cidrProblem(cidr);
            if (problem !== undefined) {
                ctx.addIssue({ code: "custom", message: problem });
            }
        })
        .optional(),
    /** Availability zones of the subnets, 2 to 6, e.g. [ap-northeast-1a, ap-northeast-1c]: EKS and ALBs need two. Required with `create`. */
    availabilityZones: z
        .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, { error: "must be an availability zone such as ap-northeast-1a" }))
        .min(2, { error: "must list at least two availability zones: EKS and load balancers need subnets in two" })
        .max(6, { error: "must list at most six availability zones" })
        .refine((zones) => new Set(zones).size === zones.length, { error: "lists an availability zone twice" })
        .optional(),
    /** `perAz`: a NAT gateway in each AZ (an AZ outage leaves the others online); `single`: one, for dev (cheaper, one AZ's fate). Default: perAz. */
    natGateways: z.enum(["single", "perAz"]).default("perAz"),
});

export type NetworkConfig = z.output<typeof networkSchema>;

/** The NAT gateways a stack creates: none on an existing network, one, or one per AZ. */
export function natGatewayCount(network: NetworkConfig | undefined): number {
    if (network?.create !== true) {
        return 0;
    }
    return network.natGateways === "single" ? 1 : (network.availabilityZones?.length ?? 0);
}

export type StaticAssetsConfig = z.output<typeof staticAssetsSchema>;
export type ServiceStaticAssetsConfig = z.output<typeof serviceStaticAssetsSchema>;
export type EcrConfig = z.output<typeof ecrSchema>;
export type ScheduleConfig = z.output<typeof scheduleSchema>;

/** The bucket prefix of a service's files. */
export function staticPrefix(service: { name: string; staticAssets?: ServiceStaticAssetsConfig }): string {
    return service.staticAssets?.prefix ?? service.name;
}

/** The sections the platform rules read, as far as they parsed (see checks.ts). */
export interface PlatformSections {
    environment?: string;
    /** Whether the stack file has a `staticAssets` section, parsed or not. */
    staticAssetsWritten: boolean;
    staticAssets?: StaticAssetsConfig;
    schedule?: ScheduleConfig;
    ecr?: EcrConfig;
    /** The services that parsed, at their index (undefined where an entry has problems). */
    services?: ({ name: string; image: string; version: string; staticAssets?: ServiceStaticAssetsConfig } | undefined)[];
    cluster?: { vpcId?: string; privateSubnetIds?: string[] };
    /** Whether the stack file has a `network` section, parsed or not. */
    networkWritten: boolean;
    network?: NetworkConfig;
}

/**
 * Rules across sections: a service's assets need the bucket, prefixes never nest, the upload Job's
 * name fits, aliases need a certificate, no night stop in production, `image: ecr` needs ECR, and
 * the cluster's network is either named or created.
 */
export function checkPlatform(sections: PlatformSections, report: Report): void {
    const withAssets = (sections.services ?? [])
        .map((service, index) => ({ service, index }))
        .filter((s): s is { service: NonNullable<typeof s.service>; index: number } => s.service?.staticAssets !== undefined);
    if (!sections.staticAssetsWritten) {
        for (const { service, index } of withAssets) {
            report(
                ["services", index, "staticAssets"],
                `${service.name} uploads static assets, but the stack has no staticAssets section (bucket and CDN)`,
            );
        }
    } else if (
        sections.staticAssets !== undefined &&
        sections.staticAssets.aliases.length > 0 &&
        sections.staticAssets.certificateArn === undefined
    ) {
        report(
            ["staticAssets", "certificateArn"],
            "is required with aliases: CloudFront serves a custom host name only with its certificate",
        );
    }
    // The Job's name is also its pods' `job-name` label value: Kubernetes asks for at most 63
    // characters (https://kubernetes.io/docs/concepts/workloads/controllers/job/#writing-a-job-spec).
    // A service that parsed has a DNS-label name (its schema); the version and the length can still break the Job's.
    for (const { service, index } of withAssets) {
        const problem = checkName("dns1123Label", staticUploadJobName(service.name, service.version));
        if (problem !== undefined) {
            report(
                ["services", index, "version"],
                `the static upload Job name of ${service.name}: ${problem}; shorten the service name or the version ` +
                    `(the Job is <service>-static-upload-<version>, the version lowercased, each run of '.', '+', '_' as one '-')`,
            );
        }
    }
    // One prefix per service, none inside another: each upload identity may write below its own only.
    for (const a of withAssets) {
        for (const b of withAssets) {
            const pa = staticPrefix(a.service);
            const pb = staticPrefix(b.service);
            // Two services of one name are reported at their names; their default prefixes would repeat it.
            const sameName = a.service.name === b.service.name;
            if (a.index < b.index && !sameName && (pa === pb || pb.startsWith(`${pa}/`) || pa.startsWith(`${pb}/`))) {
                report(
                    ["services", b.index, "staticAssets", "prefix"],
                    `"${pb}" overlaps "${pa}" of ${a.service.name}: each service writes below a prefix of its own`,
                );
            }
        }
    }
    if (sections.schedule !== undefined && sections.environment === "production") {
        report(["schedule"], "production is never stopped at night: remove the schedule from this stack");
    }
    if (sections.ecr !== undefined && !sections.ecr.enabled) {
        (sections.services ?? []).forEach((service, index) => {
            if (service?.image === "ecr") {
                report(["services", index, "image"], `"ecr" names the service's ECR repository, but ecr.enabled is not true in this stack`);
            }
        });
    }
    // A network section that did not parse has its problems said already.
    if (sections.cluster !== undefined && (sections.network !== undefined || !sections.networkWritten)) {
        checkNetwork(sections.cluster, sections.network, report);
    }
}

/** Either this stack builds the network (`network.create`) or the cluster names an existing one: never both, never neither. */
function checkNetwork(cluster: { vpcId?: string; privateSubnetIds?: string[] }, network: NetworkConfig | undefined, report: Report): void {
    if (network?.create === true) {
        for (const key of ["cidr", "availabilityZones"] as const) {
            if (network[key] === undefined) {
                report(["network", key], "is required with network.create: true");
            }
        }
        for (const key of ["vpcId", "privateSubnetIds"] as const) {
            if (cluster[key] !== undefined) {
                report(["cluster", key], "must be left out with network.create: true: the cluster runs in the VPC this stack creates");
            }
        }
        return;
    }
    for (const key of ["cidr", "availabilityZones"] as const) {
        if (network?.[key] !== undefined) {
            report(["network", key], "is used only with network.create: true (set it, or remove this key)");
        }
    }
    for (const key of ["vpcId", "privateSubnetIds"] as const) {
        if (cluster[key] === undefined) {
            report(["cluster", key], "is required unless network.create is true: name the existing network the cluster runs in");
        }
    }
}

/**
 * Static assets (`bff-platform:static-assets:StaticAssets`): the S3 bucket of the environment's
 * JS and CSS and the CloudFront distribution in front of it, and one upload identity per service
 * that ships static files (its Job copies each release's files below the service's prefix).
 *
 * - The bucket is private in all four public-access settings, owner-enforced (no ACLs), encrypted,
 *   versioned (a bad upload can be rolled back), TLS only, and old versions expire.
 * - CloudFront reads it through origin access control (SigV4; no legacy origin access identity);
 *   the bucket policy admits only this distribution's ARN. Viewers get HTTPS only.
 * - Content-hashed files (`immutablePathPatterns`) are cached for a year and sent `immutable`;
 *   everything else (entry files naming the hashed ones) for `entryMaxAgeSeconds`.
 * Bucket and distribution are protected: deleting them takes `pulumi state unprotect`.
 */
import * as pulumi from "@pulumi/pulumi";
import { PLATFORM_DEFAULTS, ServiceConfig, staticPrefix, StaticAssetsConfig } from "../config";
import { aws, createPrivateBucket, POD_IDENTITY_TRUST_POLICY, staticUploadServiceAccount } from "../shared";
// The one Pod Identity trust policy of the project (a trust policy has no Resource element).
import { bucketPolicy, uploadPolicy } from "./policy";

export * from "./policy";

/** CloudFront's managed origin request policy that forwards nothing to S3 but what signing needs ("Managed-CORS-S3Origin" forwards CORS headers). */
const CORS_S3_ORIGIN_REQUEST_POLICY = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf";

export interface StaticAssetsArgs {
    staticAssets: StaticAssetsConfig;
    environment: string;
    /** Services that ship static files get an upload identity. */
    services: ServiceConfig[];
    /** EKS cluster the upload Jobs run in, and its app namespace. */
    clusterName: pulumi.Input<string>;
    namespace: string;
    /** The EKS Pod Identity Agent add-on: an association is useless before it runs. Default: none. */
    podIdentityAgent?: pulumi.Resource;
    tags?: Record<string, string>;
}

export class StaticAssets extends pulumi.ComponentResource {
    readonly bucket: aws.s3.Bucket;
    readonly distribution: aws.cloudfront.Distribution;
    /** Pod Identity associations of the upload Jobs, by service: a Job needs its own before it runs. */
    readonly uploadIdentities = new Map<string, aws.eks.PodIdentityAssociation>();

    constructor(name: string, args: StaticAssetsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bff-platform:static-assets:StaticAssets", name, {}, opts);
        const { staticAssets: config, tags } = args;
        const parent = { parent: this };
        const protect = { parent: this, protect: true };

        const storage = createPrivateBucket(
            name,
            {
                bucket: config.bucket,
                tags,
                lifecycleRules: [
                    {
                        id: "expire-noncurrent-versions",
                        status: "Enabled",
                        filter: {},
                        noncurrentVersionExpiration: { noncurrentDays: config.noncurrentVersionDays },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                    },
                ],
            },
            this,
        );
        this.bucket = storage.bucket;

        const accessControl = new aws.cloudfront.OriginAccessControl(
            name,
            {
                name: `${config.bucket}`.slice(0, 64),
                description: `S3 origin ${config.bucket}`,
                originAccessControlOriginType: "s3",
                signingBehavior: "always",
                signingProtocol: "sigv4",
            },
            parent,
        );
        const noCookiesHeadersQuery = {
            cookiesConfig: { cookieBehavior: "none" },
            headersConfig: { headerBehavior: "none" },
            queryStringsConfig: { queryStringBehavior: "none" },
            enableAcceptEncodingBrotli: true,
            enableAcceptEncodingGzip: true,
        };
        const cachePolicy = (suffix: string, seconds: number) =>
            new aws.cloudfront.CachePolicy(
                `${name}-${suffix}`,
                {
                    name: `${args.environment}-static-${suffix}`,
                    comment: `${suffix} static files of ${args.environment}`,
                    minTtl: seconds,
                    defaultTtl: seconds,
                    maxTtl: seconds,
                    parametersInCacheKeyAndForwardedToOrigin: noCookiesHeadersQuery,
                },
                parent,
            );
        const immutableSeconds = PLATFORM_DEFAULTS.staticAssets.immutableMaxAgeSeconds;
        const immutableCache = cachePolicy("immutable", immutableSeconds);
        const entryCache = cachePolicy("entry", config.entryMaxAgeSeconds);
        const cacheControl = (suffix: string, value: string) =>
            new aws.cloudfront.ResponseHeadersPolicy(
                `${name}-${suffix}`,
                {
                    name: `${args.environment}-static-${suffix}`,
                    comment: `Cache-Control of ${suffix} static files`,
                    customHeadersConfig: { items: [{ header: "Cache-Control", value, override: true }] },
                    securityHeadersConfig: {
                        contentTypeOptions: { override: true },
                        strictTransportSecurity: { accessControlMaxAgeSec: 31536000, includeSubdomains: true, override: true },
                    },
                },
                parent,
            );
        const immutableHeaders = cacheControl("immutable", `public, max-age=${immutableSeconds}, immutable`);
        const entryHeaders = cacheControl("entry", `public, max-age=${config.entryMaxAgeSeconds}`);

        const originId = "s3-static-assets";
        const behavior = (cache: aws.cloudfront.CachePolicy, headers: aws.cloudfront.ResponseHeadersPolicy) => ({
            targetOriginId: originId,
            viewerProtocolPolicy: "redirect-to-https",
            allowedMethods: ["GET", "HEAD", "OPTIONS"],
            cachedMethods: ["GET", "HEAD"],
            compress: true,
            cachePolicyId: cache.id,
            originRequestPolicyId: CORS_S3_ORIGIN_REQUEST_POLICY,
            responseHeadersPolicyId: headers.id,
        });
        this.distribution = new aws.cloudfront.Distribution(
            name,
            {
                enabled: true,
                comment: `Static assets of ${args.environment}`,
                aliases: config.aliases,
                httpVersion: "http2and3",
                isIpv6Enabled: true,
                priceClass: config.priceClass,
                webAclId: config.webAclArn,
                origins: [{ originId, domainName: this.bucket.bucketRegionalDomainName, originAccessControlId: accessControl.id }],
                defaultCacheBehavior: behavior(entryCache, entryHeaders),
                orderedCacheBehaviors: config.immutablePathPatterns.map((pathPattern) => ({
                    pathPattern,
                    ...behavior(immutableCache, immutableHeaders),
                })),
                restrictions: { geoRestriction: { restrictionType: "none" } },
                viewerCertificate:
                    config.certificateArn === undefined
                        ? { cloudfrontDefaultCertificate: true }
                        : {
                              acmCertificateArn: config.certificateArn,
                              sslSupportMethod: "sni-only",
                              minimumProtocolVersion: "TLSv1.2_2021",
                          },
                tags,
            },
            protect,
        );
        storage.putPolicy(this.distribution.arn.apply((arn) => bucketPolicy(config.bucket, arn)));

        for (const service of args.services.filter((s) => s.staticAssets !== undefined)) {
            const identityName = `${name}-${service.name}-upload`;
            const role = new aws.iam.Role(identityName, { assumeRolePolicy: JSON.stringify(POD_IDENTITY_TRUST_POLICY), tags }, parent);
            const policy = new aws.iam.RolePolicy(
                identityName,
                { role: role.name, policy: JSON.stringify(uploadPolicy(config.bucket, staticPrefix(service))) },
                parent,
            );
            this.uploadIdentities.set(
                service.name,
                new aws.eks.PodIdentityAssociation(
                    identityName,
                    {
                        clusterName: args.clusterName,
                        namespace: args.namespace,
                        serviceAccount: staticUploadServiceAccount(service.name),
                        roleArn: role.arn,
                        tags,
                    },
                    { parent: this, dependsOn: [policy, ...(args.podIdentityAgent === undefined ? [] : [args.podIdentityAgent])] },
                ),
            );
        }
        this.registerOutputs({ bucket: this.bucket.bucket, domainName: this.distribution.domainName });
    }
}

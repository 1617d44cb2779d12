/**
 * Static assets under the mock runtime, for the committed dev and production stacks: the private
 * S3 bucket and the CloudFront distribution that alone may read it (origin access control), each
 * service's upload identity, and the upload Job of each release, ordered before the workload.
 */
import assert from "node:assert/strict";
import { planResources } from "../cli/plan-diff";
import { RegisteredResource, RunResult } from "../cli/mock-runtime";
import { staticUploadJobName, versionNamePart } from "../components/shared";
import { configProblems, editConfig, findResource, resourcesOfType, run, runStack, stackFile } from "./support/program";

const DEV_BUCKET = "example-frontend-dev-static-assets";
const PRODUCTION_BUCKET = "example-frontend-production-static-assets";
/** The mock runtime's ARN of the distribution named `static-assets` (cli/mock-runtime.ts). */
const MOCK_DISTRIBUTION_ARN = "arn:aws:cloudfront::123456789012:distribution/EMOCKSTATICASSETS";

const BUCKET_TYPES = {
    bucket: "aws:s3/bucket:Bucket",
    publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    policy: "aws:s3/bucketPolicy:BucketPolicy",
    distribution: "aws:cloudfront/distribution:Distribution",
    accessControl: "aws:cloudfront/originAccessControl:OriginAccessControl",
};
const JOB = "kubernetes:batch/v1:Job";

function policyOf(resource: RegisteredResource, field = "policy"): any {
    return JSON.parse(resource.inputs[field] as string);
}

function jobsOf(result: RunResult): RegisteredResource[] {
    return resourcesOfType(result, JOB).filter((j) => j.name.includes("-static-upload-"));
}

function podSpec(job: RegisteredResource): any {
    return (job.inputs as any).spec.template.spec;
}

describe("static assets: the bucket and its CDN", () => {
    for (const [stack, bucket] of [
        ["dev", DEV_BUCKET],
        ["production", PRODUCTION_BUCKET],
    ] as const) {
        it(`keeps the ${stack} bucket private in all four public-access settings, owner-enforced, encrypted, versioned`, async () => {
            const result = await runStack(stack);
            assert.deepEqual(findResource(result, BUCKET_TYPES.publicAccessBlock, "static-assets").inputs, {
                bucket,
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            });
            assert.deepEqual(findResource(result, BUCKET_TYPES.ownership, "static-assets").inputs.rule, {
                objectOwnership: "BucketOwnerEnforced",
            });
            assert.deepEqual(findResource(result, BUCKET_TYPES.encryption, "static-assets").inputs.rules, [
                { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true },
            ]);
            assert.deepEqual(findResource(result, BUCKET_TYPES.versioning, "static-assets").inputs.versioningConfiguration, {
                status: "Enabled",
            });
            // Its noncurrent-version rule is set "on a bucket that has versioning enabled (or suspended)"
            // (S3 API reference, NoncurrentVersionExpiration): versioning first.
            const lifecycle = findResource(result, BUCKET_TYPES.lifecycle, "static-assets");
            assert.ok(lifecycle.dependencies.includes(findResource(result, BUCKET_TYPES.versioning, "static-assets").urn));
            assert.deepEqual(lifecycle.inputs.rules, [
                {
                    id: "expire-noncurrent-versions",
                    status: "Enabled",
                    filter: {},
                    noncurrentVersionExpiration: { noncurrentDays: 30 },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                },
            ]);
            // No ACL and no website hosting: nothing else could make it public.
            assert.equal(resourcesOfType(result, "aws:s3/bucketAcl:BucketAcl").length, 0);
            assert.equal(resourcesOfType(result, "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration").length, 0);
        });

        it(`lets only the ${stack} distribution read, through origin access control, and only over TLS`, async () => {
            const result = await runStack(stack);
            const policy = findResource(result, BUCKET_TYPES.policy, "static-assets");
            assert.deepEqual(policyOf(policy), {
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "DenyInsecureTransport",
                        Effect: "Deny",
                        Principal: "*",
                        Action: "s3:*",
                        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
                        Condition: { Bool: { "aws:SecureTransport": "false" } },
                    },
                    {
                        Sid: "CloudFrontReadsThroughOriginAccessControl",
                        Effect: "Allow",
                        Principal: { Service: "cloudfront.amazonaws.com" },
                        Action: "s3:GetObject",
                        Resource: `arn:aws:s3:::${bucket}/*`,
                        Condition: { StringEquals: { "AWS:SourceArn": MOCK_DISTRIBUTION_ARN } },
                    },
                ],
            });
            const distribution = findResource(result, BUCKET_TYPES.distribution, "static-assets");
            assert.ok(policy.dependencies.includes(distribution.urn), "the policy names the distribution's ARN, so it waits for it");
            assert.ok(
                policy.dependencies.includes(findResource(result, BUCKET_TYPES.publicAccessBlock, "static-assets").urn),
                "the public access block is in place before the policy",
            );

            assert.deepEqual(findResource(result, BUCKET_TYPES.accessControl, "static-assets").inputs, {
                name: bucket,
                description: `S3 origin ${bucket}`,
                originAccessControlOriginType: "s3",
                signingBehavior: "always",
                signingProtocol: "sigv4",
            });
            const inputs = distribution.inputs as any;
            assert.deepEqual(inputs.origins, [
                {
                    originId: "s3-static-assets",
                    domainName: `${bucket}.s3.ap-northeast-1.amazonaws.com`,
                    originAccessControlId: "static-assets-id",
                },
            ]);
            // No legacy origin access identity anywhere.
            assert.equal(resourcesOfType(result, "aws:cloudfront/originAccessIdentity:OriginAccessIdentity").length, 0);
            assert.equal(JSON.stringify(inputs).includes("s3OriginConfig"), false);
            assert.equal(JSON.stringify(inputs).includes("originAccessIdentity"), false);
        });
    }

    it("serves HTTPS only, entry files for a minute and hashed files for a year, immutable", async () => {
        const result = await runStack("production");
        const inputs = findResource(result, BUCKET_TYPES.distribution, "static-assets").inputs as any;
        const behaviors = [inputs.defaultCacheBehavior, ...inputs.orderedCacheBehaviors];
        assert.deepEqual(
            behaviors.map((b: any) => [b.pathPattern ?? "default", b.viewerProtocolPolicy, b.cachePolicyId, b.responseHeadersPolicyId]),
            [
                ["default", "redirect-to-https", "static-assets-entry-id", "static-assets-entry-id"],
                ["*/assets/*", "redirect-to-https", "static-assets-immutable-id", "static-assets-immutable-id"],
                ["*/_next/static/*", "redirect-to-https", "static-assets-immutable-id", "static-assets-immutable-id"],
            ],
        );
        for (const behavior of behaviors) {
            assert.deepEqual(behavior.allowedMethods, ["GET", "HEAD", "OPTIONS"], "read-only");
        }
        assert.deepEqual(inputs.aliases, ["static.example.com"]);
        assert.deepEqual(inputs.viewerCertificate, {
            acmCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            sslSupportMethod: "sni-only",
            minimumProtocolVersion: "TLSv1.2_2021",
        });
        assert.equal(
            inputs.webAclId,
            "arn:aws:wafv2:us-east-1:123456789012:global/webacl/frontend-static/5f6e7d8c-9b0a-4c1d-8e2f-3a4b5c6d7e8f",
        );
        const cache = (name: string) => {
            const policy = findResource(result, "aws:cloudfront/cachePolicy:CachePolicy", name).inputs;
            return [policy.minTtl, policy.defaultTtl, policy.maxTtl];
        };
        assert.deepEqual(cache("static-assets-entry"), [60, 60, 60]);
        assert.deepEqual(cache("static-assets-immutable"), [31536000, 31536000, 31536000]);
        const cacheControl = (name: string) =>
            (findResource(result, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", name).inputs as any).customHeadersConfig
                .items;
        assert.deepEqual(cacheControl("static-assets-entry"), [{ header: "Cache-Control", value: "public, max-age=60", override: true }]);
        assert.deepEqual(cacheControl("static-assets-immutable"), [
            { header: "Cache-Control", value: "public, max-age=31536000, immutable", override: true },
        ]);

        const dev = findResource(await runStack("dev"), BUCKET_TYPES.distribution, "static-assets").inputs as any;
        assert.deepEqual(dev.aliases, []);
        assert.deepEqual(dev.viewerCertificate, { cloudfrontDefaultCertificate: true });
        assert.equal(dev.webAclId, undefined);
    });

    it("protects the bucket and the distribution, and only them among the static-assets resources", async () => {
        for (const stack of ["dev", "production"]) {
            const result = await runStack(stack);
            const component = findResource(result, "bff-platform:static-assets:StaticAssets", "static-assets");
            const children = result.resources.filter((r) => r.parent === component.urn);
            assert.deepEqual(
                children
                    .filter((r) => r.protect)
                    .map((r) => r.type)
                    .sort(),
                [BUCKET_TYPES.distribution, BUCKET_TYPES.bucket],
                stack,
            );
        }
    });

    it("exports the bucket name and the distribution's domain", async () => {
        const { outputs } = await runStack("production");
        assert.equal(outputs.staticAssetsBucket, PRODUCTION_BUCKET);
        assert.equal(outputs.staticAssetsDomain, "emockstaticassets.cloudfront.net");
    });
});

describe("static assets: the upload identity of each service", () => {
    it("may put objects below its service's prefix of the bucket and do nothing else", async () => {
        const result = await runStack("production");
        const rolePolicies = resourcesOfType(result, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.startsWith("static-assets-"));
        assert.deepEqual(
            rolePolicies.map((p) => [p.name, policyOf(p)]),
            [
                [
                    "static-assets-pc-web-upload",
                    {
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Sid: "PutBelowOwnPrefix",
                                Effect: "Allow",
                                Action: "s3:PutObject",
                                Resource: `arn:aws:s3:::${PRODUCTION_BUCKET}/pc-web/*`,
                            },
                        ],
                    },
                ],
                [
                    "static-assets-sp-web-upload",
                    {
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Sid: "PutBelowOwnPrefix",
                                Effect: "Allow",
                                Action: "s3:PutObject",
                                Resource: `arn:aws:s3:::${PRODUCTION_BUCKET}/sp-web/*`,
                            },
                        ],
                    },
                ],
            ],
        );
        // Negative: no other action, resource or wildcard, and nothing attached to the roles besides.
        for (const policy of rolePolicies) {
            const statements = policyOf(policy).Statement as any[];
            assert.deepEqual([...new Set(statements.flatMap((s) => [s.Action].flat()))], ["s3:PutObject"]);
            assert.equal(
                statements.every((s) => s.Effect === "Allow" && typeof s.Resource === "string" && /\/(pc|sp)-web\/\*$/.test(s.Resource)),
                true,
            );
            assert.equal(JSON.stringify(statements).includes(`"arn:aws:s3:::${PRODUCTION_BUCKET}/*"`), false);
        }
        const uploadRoles = resourcesOfType(result, "aws:iam/role:Role").filter((r) => r.name.startsWith("static-assets-"));
        assert.deepEqual(
            uploadRoles.map((r) => r.name),
            ["static-assets-pc-web-upload", "static-assets-sp-web-upload"],
        );
        for (const role of uploadRoles) {
            // A trust policy names no Resource (IAM refuses one there).
            assert.deepEqual(policyOf(role, "assumeRolePolicy").Statement, [
                { Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] },
            ]);
        }
        const attached = resourcesOfType(result, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) =>
            String(a.inputs.role).startsWith("static-assets-"),
        );
        assert.deepEqual(attached, []);
    });

    it("is bound to the Job's ServiceAccount in the app namespace through EKS Pod Identity, once the agent runs", async () => {
        const result = await runStack("dev");
        const association = findResource(result, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "static-assets-pc-web-upload");
        assert.ok(
            association.dependencies.includes(findResource(result, "aws:eks/addon:Addon", "frontend-dev-eks-pod-identity-agent").urn),
            "the association waits for the eks-pod-identity-agent add-on",
        );
        assert.deepEqual(
            resourcesOfType(result, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
                .filter((a) => a.name.startsWith("static-assets-"))
                .map((a) => [a.name, a.inputs]),
            [
                [
                    "static-assets-pc-web-upload",
                    {
                        clusterName: "frontend-dev",
                        namespace: "frontend",
                        serviceAccount: "pc-web-static-upload",
                        roleArn: "arn:aws:iam::123456789012:role/static-assets-pc-web-upload",
                        tags: { environment: "dev", "managed-by": "pulumi", project: "bff-platform" },
                    },
                ],
            ],
        );
    });

    it("follows a service's own prefix and upload directory", async () => {
        const configMap = editConfig(stackFile("dev").configMap, "services", (services) => {
            services[0].staticAssets = { npmPackage: "@example/pc-web-assets", distDir: "build/client", prefix: "web/pc", uploadDir: "v2" };
            return services;
        });
        const result = await run(configMap, "up", "dev");
        assert.equal(
            policyOf(findResource(result, "aws:iam/rolePolicy:RolePolicy", "static-assets-pc-web-upload")).Statement[0].Resource,
            `arn:aws:s3:::${DEV_BUCKET}/web/pc/*`,
        );
        const env = podSpec(jobsOf(result)[0]).containers[0].env;
        assert.deepEqual(
            env.filter((e: any) => ["NPM_PACKAGE_DIST_DIR", "UPLOAD_DIST_DIR"].includes(e.name)),
            [
                { name: "NPM_PACKAGE_DIST_DIR", value: "build/client" },
                { name: "UPLOAD_DIST_DIR", value: "web/pc/v2" },
            ],
        );
    });
});

describe("static assets: the upload Job of a release", () => {
    it("names the Job after the release version, normalised to what Kubernetes names accept", () => {
        assert.equal(staticUploadJobName("pc-web", "2.15.0-RC.1+build_7"), "pc-web-static-upload-2-15-0-rc-1-build-7");
        assert.equal(staticUploadJobName("pc-web", "2.15.0"), "pc-web-static-upload-2-15-0");
        assert.equal(versionNamePart("_v1..2--"), "v1-2");
    });

    it("runs the dev release's upload with the six variables, no sidecar, no API token, restricted, bounded", async () => {
        const result = await runStack("dev");
        const jobs = jobsOf(result);
        assert.deepEqual(
            jobs.map((j) => j.name),
            ["pc-web-static-upload-2-15-0-rc-1"],
            "only pc-web declares staticAssets in dev",
        );
        const job = jobs[0].inputs as any;
        assert.deepEqual(job.metadata.annotations, { "argocd.argoproj.io/sync-wave": "-1" });
        assert.equal(job.metadata.labels["app.kubernetes.io/version"], "2.15.0-rc.1");
        assert.equal(job.spec.backoffLimit, 2);
        assert.equal(job.spec.activeDeadlineSeconds, 900);
        assert.equal("ttlSecondsAfterFinished" in job.spec, false, "a TTL would make Argo CD recreate the finished Job");
        assert.equal(job.spec.template.metadata.labels["sidecar.istio.io/inject"], "false");
        const spec = job.spec.template.spec;
        assert.equal(spec.restartPolicy, "Never");
        assert.equal(spec.serviceAccountName, "pc-web-static-upload");
        assert.equal(spec.automountServiceAccountToken, false);
        assert.deepEqual(spec.securityContext, { fsGroup: 10001, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        assert.deepEqual(
            [...spec.initContainers, ...spec.containers].map((c: any) => [c.name, c.image]),
            [
                ["download", "node:22.12.0-alpine3.21"],
                ["upload", "amazon/aws-cli:2.22.0"],
            ],
            "two pinned containers and no istio-proxy",
        );
        for (const container of [...spec.initContainers, ...spec.containers]) {
            assert.deepEqual(container.env, [
                { name: "S3_REGION", value: "ap-northeast-1" },
                { name: "S3_BUCKET", value: DEV_BUCKET },
                { name: "NPM_PACKAGE_NAME", value: "@example/pc-web-assets" },
                { name: "NPM_PACKAGE_VERSION", value: "2.15.0-rc.1" },
                { name: "NPM_PACKAGE_DIST_DIR", value: "dist" },
                { name: "UPLOAD_DIST_DIR", value: "pc-web" },
                { name: "NPM_REGISTRY", value: "https://registry.npmjs.org" },
                { name: "HOME", value: "/tmp" },
            ]);
            assert.deepEqual(container.resources, {
                requests: { cpu: "100m", memory: "256Mi" },
                limits: { cpu: "500m", memory: "512Mi" },
            });
            assert.deepEqual(container.securityContext, {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
                readOnlyRootFilesystem: true,
                runAsGroup: 10001,
                runAsNonRoot: true,
                runAsUser: 10001,
            });
        }
        assert.equal(
            (findResource(result, "kubernetes:core/v1:ServiceAccount", "pc-web-static-upload").inputs as any).automountServiceAccountToken,
            false,
        );
    });

    it("reads a private registry's token from a Secret in the download container only", async () => {
        const configMap = editConfig(stackFile("dev").configMap, "staticAssets", (s) => ({
            ...s,
            npmRegistry: "https://npm.pkg.github.com",
            npmTokenSecret: { name: "npm-read-token", key: "token" },
        }));
        const spec = podSpec(jobsOf(await run(configMap, "up", "dev"))[0]);
        assert.deepEqual(spec.initContainers[0].env.slice(-3), [
            { name: "NPM_REGISTRY", value: "https://npm.pkg.github.com" },
            { name: "HOME", value: "/tmp" },
            { name: "NPM_TOKEN", valueFrom: { secretKeyRef: { name: "npm-read-token", key: "token" } } },
        ]);
        assert.equal(
            spec.containers[0].env.some((e: any) => e.name === "NPM_TOKEN"),
            false,
        );
    });

    it("is created after its identity and before the workload, in argocd and in direct delivery", async () => {
        for (const mode of ["argocd", "direct"]) {
            const configMap = editConfig(stackFile("production").configMap, "delivery", (d) => ({ ...d, mode }));
            const result = await run(configMap, "up", "production");
            for (const service of ["pc-web", "sp-web"]) {
                const job = findResource(result, JOB, `${service}-static-upload-2-14-0`);
                const rollout = findResource(result, "kubernetes:argoproj.io/v1alpha1:Rollout", service);
                assert.ok(rollout.dependencies.includes(job.urn), `${mode}: the ${service} Rollout waits for its upload Job`);
                assert.ok(
                    job.dependencies.includes(
                        findResource(result, "aws:eks/podIdentityAssociation:PodIdentityAssociation", `static-assets-${service}-upload`)
                            .urn,
                    ),
                    `${mode}: the Job waits for its Pod Identity association`,
                );
                assert.ok(
                    job.dependencies.includes(findResource(result, "kubernetes:core/v1:ServiceAccount", `${service}-static-upload`).urn),
                );
            }
            // A service without static files has no Job and no upload dependency.
            const watch = findResource(result, "kubernetes:argoproj.io/v1alpha1:Rollout", "pc-watch");
            assert.equal(
                watch.dependencies.some((d) => d.includes("static-upload")),
                false,
            );
        }
    });

    it("creates exactly one new Job on a version bump and deletes the old one; nothing else of the upload changes", async () => {
        const base = stackFile("dev").configMap;
        const bumped = editConfig(base, "services", (services) => {
            services[0].version = "2.15.0-RC.2_build7";
            return services;
        });
        const plan = planResources((await run(base, "up", "dev")).resources, (await run(bumped, "up", "dev")).resources);
        const uploadSteps = plan.steps.filter((s) => s.urn.includes("static-upload") || s.urn.includes("static-assets"));
        assert.deepEqual(uploadSteps.map((s) => [s.action, s.label]).sort(), [
            ["create", "Job frontend/pc-web-static-upload-2-15-0-rc-2-build7"],
            ["delete", "Job frontend/pc-web-static-upload-2-15-0-rc-1"],
        ]);
        const rollout = plan.steps.find((s) => s.label === "Rollout frontend/pc-web");
        assert.equal(rollout?.action, "update");
    });

    it("refuses a Job name over 63 characters in the configuration, naming the service and the length", () => {
        const problems = configProblems(
            editConfig(stackFile("dev").configMap, "services", (services) => {
                services[0].version = "2.15.0-feature-login-redesign-with-new-header.build-20261122";
                return services;
            }),
        );
        assert.deepEqual(problems, [
            "bff-platform:services[pc-web].version: the static upload Job name of pc-web: " +
                '"pc-web-static-upload-2-15-0-feature-login-redesign-with-new-header-build-20261122" is 81 characters long, ' +
                "more than the limit of 63; shorten the service name or the version " +
                "(the Job is <service>-static-upload-<version>, the version lowercased, each run of '.', '+', '_' as one '-')",
        ]);
    });
});

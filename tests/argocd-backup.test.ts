import assert from "node:assert/strict";
import { findResource, resourcesOfType, runStack } from "./support/program";

describe("Argo CD backup (delivery.backup)", () => {
    it("exports the Argo CD namespace every night into a bucket of its own, with a token only the export container mounts", async () => {
        const result = await runStack("production");
        const cronJob = findResource(result, "kubernetes:batch/v1:CronJob", "argocd-backup");
        const spec = cronJob.inputs.spec as any;
        assert.equal((cronJob.inputs.metadata as any).namespace, "argocd");
        assert.equal(spec.schedule, "0 3 * * *");
        assert.equal(spec.timeZone, "Asia/Tokyo");
        assert.equal(spec.concurrencyPolicy, "Forbid");
        const pod = spec.jobTemplate.spec.template;
        assert.equal(pod.metadata.labels["sidecar.istio.io/inject"], "false", "a Job's sidecar would never exit");
        assert.equal(pod.spec.automountServiceAccountToken, false);
        const [exporter] = pod.spec.initContainers;
        const [uploader] = pod.spec.containers;
        assert.equal(exporter.image, "quay.io/argoproj/argocd:v3.4.4");
        assert.equal(
            exporter.command[2],
            'set -eu\nargocd admin export -n "${ARGOCD_NAMESPACE}" > /work/argocd-export.yaml\ntest -s /work/argocd-export.yaml',
        );
        assert.deepEqual(
            exporter.volumeMounts.map((m: { name: string }) => m.name),
            ["work", "tmp", "api-token"],
        );
        assert.deepEqual(
            uploader.volumeMounts.map((m: { name: string }) => m.name),
            ["work", "tmp"],
            "the upload never sees the Kubernetes token",
        );
        assert.equal(uploader.image, "amazon/aws-cli:2.22.0");
        assert.deepEqual(
            uploader.env.find((e: { name: string }) => e.name === "BACKUP_BUCKET"),
            {
                name: "BACKUP_BUCKET",
                value: "example-frontend-production-argocd-backup",
            },
        );
        for (const container of [exporter, uploader]) {
            assert.equal(container.securityContext.runAsNonRoot, true);
            assert.equal(container.securityContext.readOnlyRootFilesystem, true);
            assert.deepEqual(container.securityContext.capabilities, { drop: ["ALL"] });
        }
        const account = findResource(result, "kubernetes:core/v1:ServiceAccount", "argocd-backup");
        assert.equal(account.inputs.automountServiceAccountToken, false);
        const role = findResource(result, "kubernetes:rbac.authorization.k8s.io/v1:Role", "argocd-backup");
        assert.deepEqual(role.inputs.rules, [
            { apiGroups: [""], resources: ["configmaps", "secrets"], verbs: ["get", "list"] },
            { apiGroups: ["argoproj.io"], resources: ["applications", "appprojects", "applicationsets"], verbs: ["get", "list"] },
        ]);
        const association = findResource(result, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "argocd-backup");
        assert.deepEqual(
            { namespace: association.inputs.namespace, serviceAccount: association.inputs.serviceAccount },
            { namespace: "argocd", serviceAccount: "argocd-backup" },
        );
        assert.ok(cronJob.dependencies.includes(association.urn), "the CronJob waits for its AWS identity");
    });

    it("keeps the exports private, encrypted with a protected key, TLS only, expiring after 30 days; the identity may only put below argocd/", async () => {
        const result = await runStack("production");
        const bucket = findResource(result, "aws:s3/bucket:Bucket", "argocd-backup");
        assert.equal(bucket.inputs.bucket, "example-frontend-production-argocd-backup");
        assert.equal(bucket.protect, true);
        assert.equal(findResource(result, "aws:kms/key:Key", "argocd-backup").protect, true);
        assert.deepEqual(
            (({ blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets }) => ({
                blockPublicAcls,
                blockPublicPolicy,
                ignorePublicAcls,
                restrictPublicBuckets,
            }))(findResource(result, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "argocd-backup").inputs as any),
            { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        );
        const sse = findResource(
            result,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "argocd-backup",
        );
        assert.equal((sse.inputs as any).rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "aws:kms");
        const lifecycle = findResource(result, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "argocd-backup");
        assert.deepEqual((lifecycle.inputs as any).rules[0].expiration, { days: 30 });
        const bucketPolicy = JSON.parse(findResource(result, "aws:s3/bucketPolicy:BucketPolicy", "argocd-backup").inputs.policy as string);
        assert.deepEqual(bucketPolicy.Statement[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
        assert.equal(bucketPolicy.Statement[0].Effect, "Deny");
        const policy = JSON.parse(findResource(result, "aws:iam/policy:Policy", "argocd-backup").inputs.policy as string);
        assert.deepEqual(policy.Statement, [
            {
                Sid: "PutExports",
                Effect: "Allow",
                Action: "s3:PutObject",
                Resource: "arn:aws:s3:::example-frontend-production-argocd-backup/argocd/*",
            },
            {
                Sid: "EncryptExports",
                Effect: "Allow",
                Action: "kms:GenerateDataKey",
                Resource: "arn:aws:kms:ap-northeast-1:123456789012:key/argocd-backup",
            },
        ]);
    });

    it("is absent where the stack sets no backup", async () => {
        const result = await runStack("dev");
        assert.deepEqual(
            resourcesOfType(result, "kubernetes:batch/v1:CronJob").filter((r) => r.name === "argocd-backup"),
            [],
        );
    });
});

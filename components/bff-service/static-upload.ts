/**
 * The upload of a release's static files: a Job per version (`<service>-static-upload-<version>`)
 * that downloads the service's release npm package, keeps its `distDir` and copies it below the
 * service's prefix of the stack's bucket, where CloudFront serves it.
 *
 * - Two containers, both pinned: an init container in the node image runs `npm pack
 *   <package>@<version>` against `staticAssets.npmRegistry` (with the read token of
 *   `staticAssets.npmTokenSecret` for a private registry) and unpacks it into an emptyDir; the AWS
 *   CLI image then runs `aws s3 cp --recursive` with the credentials EKS Pod Identity gives the
 *   Job's ServiceAccount (its role may only put objects below the prefix: components/static-assets).
 * - Before the new pods serve: in Argo CD the Job is in sync wave -1, and Argo CD waits for it to
 *   complete before wave 0 (the workload). It is a plain resource, not a hook: the same version's
 *   Job is in sync after it ran (never re-run), and the next release's manifest replaces it, so
 *   Argo CD prunes the old one (never kept forever). No `ttlSecondsAfterFinished`: a Job deleted by
 *   its TTL would go OutOfSync and auto-sync would recreate it (docs/design.md §2). With `direct`
 *   delivery the workload depends on the Job, and Pulumi waits for the Job to complete.
 * - No istio-proxy (a Job whose sidecar keeps running never completes), no Kubernetes API token.
 */
import { PLATFORM_DEFAULTS, ServiceConfig, staticPrefix } from "../config";
import {
    KubeObject,
    Labels,
    restrictedContainer,
    restrictedPod,
    sortKeys,
    staticUploadJobName,
    staticUploadServiceAccount,
} from "../shared";
import { ServiceNames } from "./names";

/** Where a stack's static files go: known when the stack has a `staticAssets` section. */
export interface StaticUploadTarget {
    bucket: string;
    region: string;
    npmRegistry: string;
    npmTokenSecret?: { name: string; key: string };
}

const DOWNLOAD_SCRIPT = [
    "set -eu",
    // A private registry's token goes to a user config in /tmp, never onto the command line.
    'if [ -n "${NPM_TOKEN:-}" ]; then echo "//${NPM_REGISTRY#https://}/:_authToken=${NPM_TOKEN}" > /tmp/.npmrc; fi',
    'npm pack "${NPM_PACKAGE_NAME}@${NPM_PACKAGE_VERSION}" --registry "${NPM_REGISTRY}" --pack-destination /work --silent',
    "tar -xzf /work/*.tgz -C /work",
    'test -d "/work/package/${NPM_PACKAGE_DIST_DIR}" || { echo "the package has no ${NPM_PACKAGE_DIST_DIR}/" >&2; exit 1; }',
].join("\n");

const UPLOAD_SCRIPT = [
    "set -eu",
    'aws s3 cp "/work/package/${NPM_PACKAGE_DIST_DIR}" "s3://${S3_BUCKET}/${UPLOAD_DIST_DIR}/" --recursive --region "${S3_REGION}" --only-show-errors',
].join("\n");

/** The upload Job and its ServiceAccount, or nothing for a service without static files. */
export function staticUpload(
    service: ServiceConfig,
    namespace: string,
    names: ServiceNames,
    labels: { stable: Labels; versioned: Labels },
    target: StaticUploadTarget | undefined,
): { serviceAccount: KubeObject; job: KubeObject } | undefined {
    const assets = service.staticAssets;
    if (assets === undefined || target === undefined) {
        return undefined;
    }
    const defaults = PLATFORM_DEFAULTS.upload;
    // The images' own users (node 1000, root in the AWS CLI image) are not used: both run as a high uid.
    const user = { uid: defaults.uid };
    const serviceAccountName = staticUploadServiceAccount(names.workload);
    // The ServiceAccount stays as it is across releases; the Job is the release's own.
    const accountLabels = sortKeys({ ...labels.stable, "app.kubernetes.io/component": "static-upload" });
    const jobLabels = sortKeys({ ...labels.versioned, "app.kubernetes.io/component": "static-upload" });
    const prefix = staticPrefix(service);
    const env = [
        { name: "S3_REGION", value: target.region },
        { name: "S3_BUCKET", value: target.bucket },
        { name: "NPM_PACKAGE_NAME", value: assets.npmPackage },
        { name: "NPM_PACKAGE_VERSION", value: service.version },
        { name: "NPM_PACKAGE_DIST_DIR", value: assets.distDir },
        { name: "UPLOAD_DIST_DIR", value: assets.uploadDir === undefined ? prefix : `${prefix}/${assets.uploadDir}` },
        { name: "NPM_REGISTRY", value: target.npmRegistry },
        { name: "HOME", value: "/tmp" },
    ];
    const token =
        target.npmTokenSecret === undefined
            ? []
            : [{ name: "NPM_TOKEN", valueFrom: { secretKeyRef: { name: target.npmTokenSecret.name, key: target.npmTokenSecret.key } } }];
    const mounts = [
        { name: "work", mountPath: "/work" },
        { name: "tmp", mountPath: "/tmp" },
    ];
    const container = (name: string, image: string, script: string, user: { uid: number }, extraEnv: object[]) => ({
        name,
        image,
        command: ["/bin/sh", "-c", script],
        env: [...env, ...extraEnv],
        resources: { requests: { ...defaults.resources.requests }, limits: { ...defaults.resources.limits } },
        securityContext: restrictedContainer(user),
        volumeMounts: mounts,
    });
    return {
        serviceAccount: {
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: { name: serviceAccountName, namespace, labels: accountLabels },
            // Pod Identity mounts its own token for AWS; nothing here reads the Kubernetes API.
            automountServiceAccountToken: false,
        },
        job: {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: {
                name: staticUploadJobName(names.workload, service.version),
                namespace,
                labels: jobLabels,
                annotations: { "argocd.argoproj.io/sync-wave": String(defaults.syncWave) },
            },
            spec: {
                backoffLimit: defaults.backoffLimit,
                activeDeadlineSeconds: defaults.activeDeadlineSeconds,
                template: {
                    metadata: { labels: sortKeys({ ...jobLabels, "sidecar.istio.io/inject": "false" }) },
                    spec: {
                        restartPolicy: "Never",
                        serviceAccountName,
                        automountServiceAccountToken: false,
                        initContainers: [container("download", defaults.npmImage, DOWNLOAD_SCRIPT, user, token)],
                        containers: [container("upload", defaults.awsCliImage, UPLOAD_SCRIPT, user, [])],
                        volumes: [
                            { name: "work", emptyDir: { sizeLimit: "1Gi" } },
                            { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
                        ],
                        nodeSelector: { "node-role": "worker" },
                        securityContext: { ...restrictedPod(), fsGroup: user.uid },
                    },
                },
            },
        },
    };
}

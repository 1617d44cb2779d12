/**
 * The Argo CD backup (`delivery.backup`): a CronJob in the Argo CD namespace runs
 * `argocd admin export -n <namespace>` (Argo CD's documented backup: every Application, AppProject,
 * ApplicationSet, its settings ConfigMaps and Secrets, https://argo-cd.readthedocs.io/en/stable/operator-manual/disaster_recovery/)
 * and copies the file to `s3://<bucket>/argocd/<UTC time>.yaml`.
 *
 * - The export holds Argo CD's Secrets (repository credentials, the admin password hash): the
 *   bucket is its own (never the static-assets bucket, which CloudFront reads), private in all four
 *   public-access settings, TLS only, encrypted with a KMS key of its own, versioned, and exports
 *   expire after `retentionDays`. Bucket and key are protected.
 * - Least privilege: the pod's Kubernetes identity may only `get`/`list` the kinds the export
 *   reads, in the Argo CD namespace; its AWS identity (EKS Pod Identity) may only put objects below
 *   `argocd/` of that bucket and use that key to encrypt them.
 * - Two containers: the export runs in Argo CD's image of the installed version (init container,
 *   the one container here that reads the Kubernetes API, so the pod mounts its token), the upload
 *   in the AWS CLI image. No istio-proxy (a Job's sidecar never exits), non-root, read-only.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS, IMAGES, imageReference, StackConfig, UIDS } from "../config";
import {
    aws,
    createPrivateBucket,
    createWorkloadIdentity,
    denyInsecureTransport,
    KubeObject,
    PolicyDocument,
    recommendedLabels,
    restrictedContainer,
    restrictedPod,
    sortKeys,
} from "../shared";

export const BACKUP_NAME = DEFAULTS.argocdBackup;
/** Key prefix of the exports in the bucket; the upload identity may write nowhere else. */
export const BACKUP_PREFIX = "argocd";

/** What `argocd admin export` reads in the Argo CD namespace (argo-cd cmd/argocd/commands/admin/backup.go). */
export const EXPORT_READS = [
    { apiGroups: [""], resources: ["configmaps", "secrets"], verbs: ["get", "list"] },
    { apiGroups: ["argoproj.io"], resources: ["applications", "appprojects", "applicationsets"], verbs: ["get", "list"] },
];

/** The bucket's policy: nothing without TLS. */
export function backupBucketPolicy(bucket: string): PolicyDocument {
    return { Version: "2012-10-17", Statement: [denyInsecureTransport(bucket)] };
}

/** What the backup pod may do in AWS: put exports below `argocd/`, encrypting them with the bucket's key. */
export function backupUploadPolicy(bucket: string, keyArn: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "PutExports", Effect: "Allow", Action: "s3:PutObject", Resource: `arn:aws:s3:::${bucket}/${BACKUP_PREFIX}/*` },
            // SSE-KMS on upload: S3 asks KMS for a data key on the caller's behalf.
            { Sid: "EncryptExports", Effect: "Allow", Action: "kms:GenerateDataKey", Resource: keyArn },
        ],
    };
}

/** Where client-go's in-cluster configuration looks for the token, CA and namespace. */
const API_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";

const EXPORT_SCRIPT = 'set -eu\nargocd admin export -n "${ARGOCD_NAMESPACE}" > /work/argocd-export.yaml\ntest -s /work/argocd-export.yaml';
const UPLOAD_SCRIPT =
    'set -eu\naws s3 cp /work/argocd-export.yaml "s3://${BACKUP_BUCKET}/' +
    BACKUP_PREFIX +
    '/$(date -u +%Y-%m-%dT%H%M%SZ).yaml" --region "${AWS_REGION}" --only-show-errors';

/** The ServiceAccount, Role, RoleBinding and CronJob of the backup (plain data). */
export function backupObjects(config: StackConfig, region: string): KubeObject[] {
    const backup = config.delivery.backup;
    if (backup === undefined) {
        return [];
    }
    const namespace = config.delivery.argocdNamespace;
    const labels = recommendedLabels({ name: BACKUP_NAME, component: "backup", partOf: DEFAULTS.partOf });
    const meta = { name: BACKUP_NAME, namespace, labels };
    const volumes = [
        { name: "work", emptyDir: { sizeLimit: "256Mi" } },
        { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
        {
            name: "api-token",
            projected: {
                sources: [
                    { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
                    { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
                    { downwardAPI: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] } },
                ],
            },
        },
    ];
    const mounts = [
        { name: "work", mountPath: "/work" },
        { name: "tmp", mountPath: "/tmp" },
    ];
    const resources = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };
    const container = (name: string, image: string, script: string, env: { name: string; value: string }[]) => ({
        name,
        image,
        command: ["/bin/sh", "-c", script],
        env: [...env, { name: "HOME", value: "/tmp" }],
        resources,
        securityContext: restrictedContainer({ uid: UIDS.app }),
        volumeMounts: mounts,
    });
    return [
        { apiVersion: "v1", kind: "ServiceAccount", metadata: meta, automountServiceAccountToken: false },
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: meta, rules: EXPORT_READS },
        {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: meta,
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: BACKUP_NAME },
            subjects: [{ kind: "ServiceAccount", name: BACKUP_NAME, namespace }],
        },
        {
            apiVersion: "batch/v1",
            kind: "CronJob",
            metadata: meta,
            spec: {
                schedule: backup.schedule,
                timeZone: config.timeZone,
                concurrencyPolicy: "Forbid",
                startingDeadlineSeconds: 600,
                successfulJobsHistoryLimit: 3,
                failedJobsHistoryLimit: 3,
                jobTemplate: {
                    metadata: { labels },
                    spec: {
                        backoffLimit: 2,
                        activeDeadlineSeconds: 900,
                        template: {
                            metadata: { labels: sortKeys({ ...labels, "sidecar.istio.io/inject": "false" }) },
                            spec: {
                                restartPolicy: "Never",
                                serviceAccountName: BACKUP_NAME,
                                // Only the export reads the Kubernetes API: it alone mounts a token (the same
                                // projection the kubelet's automount makes, short-lived), the upload none.
                                automountServiceAccountToken: false,
                                initContainers: [
                                    {
                                        ...container("export", imageReference(IMAGES.argocd), EXPORT_SCRIPT, [
                                            { name: "ARGOCD_NAMESPACE", value: namespace },
                                        ]),
                                        volumeMounts: [...mounts, { name: "api-token", mountPath: API_TOKEN_PATH, readOnly: true }],
                                    },
                                ],
                                containers: [
                                    container("upload", imageReference(IMAGES.awsCli), UPLOAD_SCRIPT, [
                                        { name: "BACKUP_BUCKET", value: backup.bucket },
                                        { name: "AWS_REGION", value: region },
                                    ]),
                                ],
                                volumes,
                                nodeSelector: { "node-role": "worker" },
                                securityContext: { ...restrictedPod({ uid: UIDS.app }), fsGroup: UIDS.app },
                            },
                        },
                    },
                },
            },
        },
    ];
}

export interface ArgoCdBackupStorageArgs {
    bucket: string;
    retentionDays: number;
    clusterName: pulumi.Input<string>;
    namespace: string;
    tags?: Record<string, string>;
    /** The EKS Pod Identity Agent add-on: the association waits for it, as every other identity does. */
    podIdentityAgent: pulumi.Resource;
}

/** The bucket, its key and the backup pod's AWS identity (`bff-platform:delivery:ArgoCdBackupStorage`). */
export class ArgoCdBackupStorage extends pulumi.ComponentResource {
    /** The Pod Identity association: the CronJob's pods need it before they run. */
    readonly identity: aws.eks.PodIdentityAssociation;

    constructor(name: string, args: ArgoCdBackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bff-platform:delivery:ArgoCdBackupStorage", name, {}, opts);
        const parent = { parent: this };
        const key = new aws.kms.Key(
            name,
            { description: `Argo CD backups in s3://${args.bucket}`, enableKeyRotation: true, tags: args.tags },
            { parent: this, protect: true },
        );
        const storage = createPrivateBucket(
            name,
            {
                bucket: args.bucket,
                kmsKeyArn: key.arn,
                tags: args.tags,
                lifecycleRules: [
                    {
                        id: "expire-exports",
                        status: "Enabled",
                        filter: { prefix: `${BACKUP_PREFIX}/` },
                        expiration: { days: args.retentionDays },
                        noncurrentVersionExpiration: { noncurrentDays: 1 },
                    },
                ],
            },
            this,
        );
        storage.putPolicy(backupBucketPolicy(args.bucket));
        this.identity = createWorkloadIdentity(
            name,
            {
                clusterName: args.clusterName,
                namespace: args.namespace,
                serviceAccount: BACKUP_NAME,
                policy: key.arn.apply((keyArn) => backupUploadPolicy(args.bucket, keyArn)),
                description: `Argo CD backup uploads to s3://${args.bucket}/${BACKUP_PREFIX}/`,
                tags: args.tags,
                dependsOn: [args.podIdentityAgent],
            },
            parent,
        ).association;
        this.registerOutputs({ bucket: storage.bucket.bucket });
    }
}

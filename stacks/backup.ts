/**
 * Backup layer: with `delivery.backup` (Argo CD delivery only), the bucket, key and identity of the
 * Argo CD export, and its CronJob in the Argo CD namespace, applied by Pulumi to the cluster (it
 * backs up Argo CD, so Argo CD does not manage it).
 */
import { ClusterAddons } from "../components/addons";
import { EksCluster } from "../components/cluster";
import { LoadedConfig } from "../components/config";
import { ArgoCdBackupStorage, backupObjects } from "../components/delivery";
import { createKubeObject } from "../components/shared";
import { STACK_TAGS } from "./cluster";

export function createBackupLayer({ config, region }: LoadedConfig, cluster: EksCluster, addons: ClusterAddons): void {
    const backup = config.delivery.backup;
    if (backup === undefined || config.delivery.mode !== "argocd") {
        return;
    }
    const storage = new ArgoCdBackupStorage("argocd-backup", {
        bucket: backup.bucket,
        retentionDays: backup.retentionDays,
        clusterName: cluster.clusterName,
        namespace: config.delivery.argocdNamespace,
        tags: STACK_TAGS(config.environment),
        podIdentityAgent: cluster.managedAddons["eks-pod-identity-agent"],
    });
    const argocdNamespace = addons.namespaces.argocd;
    const dependsOn = [storage.identity, ...addons.releasesOf("argocd"), ...(argocdNamespace === undefined ? [] : [argocdNamespace])];
    for (const object of backupObjects(config, region)) {
        createKubeObject(object, { provider: cluster.provider, dependsOn });
    }
}

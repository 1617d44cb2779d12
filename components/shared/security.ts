/**
 * The security context every container and pod of this program starts from (least privilege,
 * Kubernetes' "restricted" Pod Security Standard, kubernetes.io/docs/concepts/security/pod-security-standards/):
 * not root, no privilege escalation, no capabilities, a read-only root filesystem, the runtime's
 * default seccomp profile. A container that needs more says so next to its own definition.
 *
 * Ids: every container runs with an explicit uid and gid of at least {@link HIGH_ID_FLOOR}
 * (components/config UIDS lists them and the exceptions with their reasons); the policy pack
 * (policy/) checks the rendered objects against the same floor.
 */

/**
 * Lowest uid/gid a container may run as without a documented exception: above the accounts of the
 * node (system users below 1000, login users from 1000) and of the users images declare.
 */
export const HIGH_ID_FLOOR = 10000;

/** An unprivileged user for a pod or container. */
export interface ImageUser {
    uid: number;
    /** Default: the uid. */
    gid?: number;
}

export function restrictedContainer(user?: ImageUser) {
    return {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        ...(user === undefined ? {} : { runAsUser: user.uid, runAsGroup: user.gid ?? user.uid }),
        capabilities: { drop: ["ALL"] },
    };
}

/**
 * Pod-level part: the user every container runs as unless it sets its own, and `fsGroup`, which
 * makes mounted volumes (emptyDirs, Secrets, ConfigMaps) group-owned and so writable or readable by it.
 */
export function restrictedPod(user?: ImageUser & { fsGroup?: number }) {
    return {
        runAsNonRoot: true,
        ...(user === undefined ? {} : { runAsUser: user.uid, runAsGroup: user.gid ?? user.uid }),
        ...(user?.fsGroup === undefined ? {} : { fsGroup: user.fsGroup }),
        seccompProfile: { type: "RuntimeDefault" },
    };
}

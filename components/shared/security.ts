/**
 * The security context every container and pod of this program starts from (least privilege,
 * Kubernetes' "restricted" profile): not root, no privilege escalation, no capabilities, a
 * read-only root filesystem, the runtime's default seccomp profile. A container that needs more
 * says so next to its own definition.
 */

/** An image's unprivileged user, for images whose USER is a name or absent. */
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

/** Pod-level part; `fsGroup` makes mounted volumes writable by the user's group. */
export function restrictedPod(user?: ImageUser & { fsGroup?: number }) {
    return {
        runAsNonRoot: true,
        ...(user === undefined ? {} : { runAsUser: user.uid, runAsGroup: user.gid ?? user.uid }),
        ...(user?.fsGroup === undefined ? {} : { fsGroup: user.fsGroup }),
        seccompProfile: { type: "RuntimeDefault" },
    };
}

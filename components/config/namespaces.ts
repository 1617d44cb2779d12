/**
 * The config namespaces a stack may use and the keys each provider reads. A key under another
 * namespace, or a key a provider does not read, is a typo: it would be ignored and the setting
 * it meant silently left at its default.
 */
import { PROJECT } from "./defaults";

/**
 * Keys of the AWS provider (`aws:<key>`): the getters of `@pulumi/aws/config/vars` of the pinned
 * @pulumi/aws (a test compares this list with the installed package).
 */
export const AWS_CONFIG_KEYS = [
    "accessKey",
    "allowedAccountIds",
    "assumeRoleWithWebIdentity",
    "assumeRoles",
    "customCaBundle",
    "defaultTags",
    "ec2MetadataServiceEndpoint",
    "ec2MetadataServiceEndpointMode",
    "endpoints",
    "forbiddenAccountIds",
    "httpProxy",
    "httpsProxy",
    "ignoreTags",
    "insecure",
    "maxRetries",
    "noProxy",
    "profile",
    "region",
    "retryMode",
    "s3UsEast1RegionalEndpoint",
    "s3UsePathStyle",
    "secretKey",
    "sharedConfigFiles",
    "sharedCredentialsFiles",
    "skipCredentialsValidation",
    "skipMetadataApiCheck",
    "skipRegionValidation",
    "skipRequestingAccountId",
    "stsRegion",
    "tagPolicyCompliance",
    "token",
    "tokenBucketRateLimiterCapacity",
    "useDualstackEndpoint",
    "useFipsEndpoint",
    "userAgents",
] as const;

/**
 * Keys of the Kubernetes provider (`kubernetes:<key>`): the `ProviderArgs` of the pinned
 * @pulumi/kubernetes (its default provider reads the same names from config; a test compares).
 */
export const KUBERNETES_CONFIG_KEYS = [
    "alwaysRender",
    "cluster",
    "clusterIdentifier",
    "context",
    "deleteUnreachable",
    "enableConfigMapMutable",
    "enablePatchForce",
    "enableSecretMutable",
    "enableServerSideApply",
    "helmReleaseSettings",
    "kubeClientSettings",
    "kubeconfig",
    "namespace",
    "renderYamlToDirectory",
    "skipUpdateUnreachable",
    "suppressDeprecationWarnings",
    "suppressHelmHookWarnings",
    "upsertExistingObjects",
] as const;

/**
 * Namespaces a stack file may use: the project's, the providers the program uses (aws,
 * kubernetes, random: the ElastiCache AUTH token) and the engine's own `pulumi:` (e.g.
 * `pulumi:disable-default-providers`, left to the engine). `undefined`: any key is accepted.
 */
export const KNOWN_NAMESPACES: Record<string, readonly string[] | undefined> = {
    [PROJECT]: undefined,
    aws: AWS_CONFIG_KEYS,
    kubernetes: KUBERNETES_CONFIG_KEYS,
    // @pulumi/random has no provider configuration.
    random: [],
    pulumi: undefined,
};

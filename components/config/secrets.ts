/**
 * Secrets only where a secret belongs. A `secure:` value is decrypted by the engine and handed to
 * the program as plain text: unless the field that reads it keeps it secret end to end, it lands
 * in plain text in a ConfigMap, an Argo CD Application, a rendered manifest or resource inputs.
 * So a secret anywhere but in a field listed here is an error that says where it would end up.
 */
import { PROJECT } from "./defaults";
import type { Report } from "./fields";
import { parsePath } from "./paths";

/**
 * Config fields that take a secret, as paths from the project namespace with `[]` for any list
 * entry (`addons.datadog.apiKey`): the add-on credentials Pulumi applies as Secrets. Nothing else
 * holds one (the ElastiCache AUTH token is generated, TLS keys come from cert-manager).
 */
export const SECRET_FIELDS: readonly string[] = [
    // Argo CD's read access to the manifests repository: a Secret applied by Pulumi (components/addons/argocd.ts).
    "addons.argocd.repoCredentials.password",
    // The Datadog agent's keys: a Secret applied by Pulumi (components/addons/datadog.ts).
    "addons.datadog.apiKey",
    "addons.datadog.appKey",
];

/** Where the value of a field ends up, for the message; the first pattern that matches wins. */
const DESTINATIONS: [RegExp, string][] = [
    [/^services\[\]\.env(\.|$)/, "the service's ConfigMap, in plain text in the cluster and in the Argo CD repository"],
    [/^services(\[\]|$)/, "the service's rendered objects in the Argo CD repository (a secure env value lands in its ConfigMap)"],
    [/^delivery(\.|$)/, "every Argo CD Application"],
    [/^gateways(\[\]|$)/, "the gateway's rendered objects and ConfigMaps"],
    [/^rateLimits(\.|$)/, "the ratelimit ConfigMap and EnvoyFilters"],
];

/** `services[3].env.API_KEY` -> `services[].env.API_KEY`. */
function fieldPattern(parts: (string | number)[]): string {
    return parts.map((p, i) => (typeof p === "number" ? "[]" : i === 0 ? p : `.${p}`)).join("");
}

function destination(field: string): string {
    const found = DESTINATIONS.find(([pattern]) => pattern.test(field));
    return found?.[1] ?? "resource inputs and rendered files";
}

/** Whether a secret at `field` (a pattern) is allowed: the field, or a part of it, takes a secret. */
function allowed(field: string): boolean {
    return SECRET_FIELDS.some((f) => field === f || field.startsWith(`${f}.`) || field.startsWith(`${f}[]`));
}

const ALLOWED_TEXT = `fields that take a secret: ${SECRET_FIELDS.join(", ")}`;

/**
 * Reports secret values outside {@link SECRET_FIELDS}. `secretKeys`: namespaced top-level keys
 * holding a secret (all the engine tells a program). `secretPaths`: the exact paths
 * (`bff-platform:services[3].env.API_KEY`), known when the stack file is read offline; with them
 * the message names the field.
 */
export function checkSecrets(secretKeys: readonly string[], secretPaths: readonly string[] | undefined, report: Report): void {
    const prefix = `${PROJECT}:`;
    if (secretPaths !== undefined) {
        for (const full of [...secretPaths].sort()) {
            if (!full.startsWith(prefix)) {
                continue;
            }
            const parts = parsePath(full.slice(prefix.length));
            const field = fieldPattern(parts);
            if (!allowed(field)) {
                report(
                    parts,
                    `is a secret (secure:) but takes none: its plain value would end up in ${destination(field)}; ${ALLOWED_TEXT}`,
                );
            }
        }
        return;
    }
    for (const full of [...secretKeys].sort()) {
        if (!full.startsWith(prefix)) {
            continue;
        }
        const key = full.slice(prefix.length);
        // Stryker disable next-line MethodExpression: equivalent while every field that takes a secret is under one top-level key (addons).
        if (!allowed(key) && !SECRET_FIELDS.some((f) => f.startsWith(`${key}.`) || f.startsWith(`${key}[]`))) {
            report(
                [key],
                `holds a secret (secure:) value, but no field of ${key} takes a secret: its plain value would end up in ${destination(key)}; ${ALLOWED_TEXT}`,
            );
        }
    }
}

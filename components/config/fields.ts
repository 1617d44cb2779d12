/**
 * Field types shared by the sections of the stack configuration: Kubernetes names, quantities,
 * versions, image repositories, resources; and the reporting helpers of cross-field checks.
 */
import { z } from "zod";
import { checkName, checkQuantity, NAME_LIMITS, NameKind } from "../shared";

/** A string that must be a Kubernetes name of the given kind; the message names the rule. */
export function kubeName(kind: NameKind, maxLength: number = NAME_LIMITS[kind]) {
    return z.string().superRefine((value, ctx) => {
        const problem = checkName(kind, value);
        if (problem !== undefined) {
            ctx.addIssue({ code: "custom", message: problem });
        } else if (value.length > maxLength) {
            ctx.addIssue({
                code: "custom",
                message: `"${value}" is ${value.length} characters long, more than the ${maxLength} allowed here`,
            });
        }
    });
}

export const quantity = z.string().superRefine((value, ctx) => {
    const problem = checkQuantity(value);
    if (problem !== undefined) {
        ctx.addIssue({ code: "custom", message: problem });
    }
});

/** A duration as Istio and Argo Rollouts write them: "500ms", "10s", "5m", "1h". */
export const duration = z.string().regex(/^\d+(ms|s|m|h)$/, { error: 'must be a duration such as "500ms", "10s" or "5m"' });

export const positiveInt = z.number().int().min(1);
export const nonNegativeInt = z.number().int().min(0);
export const percent = z.number().int().min(1).max(100);

/** Image tags are versions people read in reviews and Datadog tags: never `latest`. */
export const version = z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/, {
        error: "must be an image tag of at most 63 letters, digits, '_', '.' and '-' (it is also a label value)",
    })
    .refine((v) => v !== "latest", { error: '"latest" is not a version: pin the release you deploy' });

/** Repository without tag or digest: the tag comes from `version`. */
export const imageRepository = z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._/-][a-z0-9]+)*)*$/, {
    error: "must be an image repository without tag or digest (e.g. 123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/frontend/pc-web); the tag comes from `version`",
});

const resourceMap = z.strictObject({ cpu: quantity, memory: quantity });
const limitMap = z.strictObject({ cpu: quantity.optional(), memory: quantity });

/** Container requests and limits; limits.cpu may be left out on purpose (no CPU throttling). */
export const resourcesSchema = z.strictObject({ requests: resourceMap, limits: limitMap });
export type ResourcesConfig = z.output<typeof resourcesSchema>;

/** Reports one problem at a path from the root of the stack configuration. */
export type Report = (path: (string | number)[], message: string) => void;

/** Reports every item whose `key` repeats an earlier item's, at `<listPath>[i].<key>`. */
export function checkUnique<T>(report: Report, items: T[], key: keyof T & string, listPath: (string | number)[]): void {
    const seen = new Map<unknown, number>();
    const listName = listPath.join(".");
    items.forEach((item, index) => {
        const value = item[key];
        const first = seen.get(value);
        if (first !== undefined) {
            report([...listPath, index, key], `"${String(value)}" is already used by ${listName}[${first}]; names must be unique`);
        } else {
            seen.set(value, index);
        }
    });
}

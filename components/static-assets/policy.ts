/**
 * IAM and bucket policies of the static assets, as typed documents (asserted in tests): the
 * bucket admits only TLS and, for reads, only this stack's CloudFront distribution; each service's
 * upload identity may put objects below its own prefix and nothing else.
 */

import { denyInsecureTransport, PolicyDocument } from "../shared";

/**
 * The bucket policy: deny every request without TLS (`aws:SecureTransport`), and allow
 * `s3:GetObject` to CloudFront's service principal only for requests of this distribution
 * (`AWS:SourceArn`), as origin access control requires
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html).
 */
export function bucketPolicy(bucket: string, distributionArn: string): PolicyDocument {
    const bucketArn = `arn:aws:s3:::${bucket}`;
    return {
        Version: "2012-10-17",
        Statement: [
            denyInsecureTransport(bucket),
            {
                Sid: "CloudFrontReadsThroughOriginAccessControl",
                Effect: "Allow",
                Principal: { Service: "cloudfront.amazonaws.com" },
                Action: "s3:GetObject",
                Resource: `${bucketArn}/*`,
                Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
            },
        ],
    };
}

/**
 * What a service's upload Job may do: put objects below `<prefix>/` of the bucket. `aws s3 cp
 * --recursive` needs nothing else (no listing, no reading, no deleting: an upload never removes the
 * files an older page still names).
 */
export function uploadPolicy(bucket: string, prefix: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{ Sid: "PutBelowOwnPrefix", Effect: "Allow", Action: "s3:PutObject", Resource: `arn:aws:s3:::${bucket}/${prefix}/*` }],
    };
}

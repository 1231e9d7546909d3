// Scoped uploads with the artifacts on S3 (moto, a fresh bucket): see scoped-blobs.contract.ts.

import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { testDeps } from "../testing/deps.ts";
import { testService } from "../testing/services.ts";
import { scopedBlobsContract } from "./scoped-blobs.contract.ts";

const bucket = `mv-scoped-${crypto.randomUUID().slice(0, 8)}`;
let created: Promise<unknown> | null = null;

scopedBlobsContract("S3", async () => {
  const endpoint = testService("moto");
  const credentials = { accessKeyId: "test", secretAccessKey: "test" };
  created ??= new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials }).send(
    new CreateBucketCommand({ Bucket: bucket }),
  );
  await created;
  return testDeps({
    S3_ENDPOINT: endpoint,
    S3_BUCKET: bucket,
    S3_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  });
});

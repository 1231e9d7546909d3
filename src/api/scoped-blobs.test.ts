// Scoped uploads on the embedded artifact store (local disk): see scoped-blobs.contract.ts.

import { testDeps } from "../testing/deps.ts";
import { scopedBlobsContract } from "./scoped-blobs.contract.ts";

scopedBlobsContract("local disk", () => testDeps());

// A build step's failure whose message is meant for the build log and the deployment's status reason.

export class BuildFailure extends Error {}

/**
 * A team's own CDK app with Caretaker in it: the team's stack holds its own resources and the
 * Caretaker construct that looks after them, from the built package (see README.md).
 */
import { App, CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Caretaker, loadConfig } from 'caretaker';

const app = new App();
const stack = new Stack(app, 'OrdersPlatform', {
  description: 'The orders platform, looked after by Caretaker',
});

// The team's own data, which Caretaker backs up (caretaker.json names it in backupSets).
new s3.Bucket(stack, 'OrderDocuments', {
  bucketName: 'orders-platform-documents',
  encryption: s3.BucketEncryption.S3_MANAGED,
  enforceSSL: true,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  versioned: true,
  removalPolicy: RemovalPolicy.RETAIN,
});

// A bad caretaker.json stops synth here, every problem named with its path.
const caretaker = new Caretaker(stack, 'Caretaker', {
  config: loadConfig('caretaker.json'),
  configSource: 'caretaker.json',
});

new CfnOutput(stack, 'CaretakerAlerts', {
  value: caretaker.alerts.topic.topicArn,
  description: 'Subscribe the on-call rotation here',
});

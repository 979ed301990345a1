/** The resource types the deployer creates, by CloudFormation type. */
import type { ResourceHandler } from '../context.ts';
import { iamPolicy, iamRole } from './iam.ts';
import { kmsAlias, kmsKey } from './kms.ts';
import { lambdaFunction, lambdaPermission } from './lambda.ts';
import { s3Bucket, s3BucketPolicy } from './s3.ts';
import { schedule } from './scheduler.ts';
import { snsSubscription, snsTopic, snsTopicPolicy } from './sns.ts';
import { sqsQueue, sqsQueuePolicy } from './sqs.ts';
import { stateMachine } from './states.ts';

export { identifyNotModelled, NOT_MODELLED } from './not-modelled.ts';

export const HANDLERS: Readonly<Record<string, ResourceHandler>> = {
  'AWS::KMS::Key': kmsKey,
  'AWS::KMS::Alias': kmsAlias,
  'AWS::S3::Bucket': s3Bucket,
  'AWS::S3::BucketPolicy': s3BucketPolicy,
  'AWS::SNS::Topic': snsTopic,
  'AWS::SNS::TopicPolicy': snsTopicPolicy,
  'AWS::SNS::Subscription': snsSubscription,
  'AWS::SQS::Queue': sqsQueue,
  'AWS::SQS::QueuePolicy': sqsQueuePolicy,
  'AWS::IAM::Role': iamRole,
  'AWS::IAM::Policy': iamPolicy,
  'AWS::Lambda::Function': lambdaFunction,
  'AWS::Lambda::Permission': lambdaPermission,
  'AWS::StepFunctions::StateMachine': stateMachine,
  'AWS::Scheduler::Schedule': schedule,
};

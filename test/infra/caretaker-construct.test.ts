/**
 * The Caretaker construct in a stack of someone else's app: no Caretaker app, no feature flags,
 * another construct beside it. It validates its config before adding anything, exposes its parts,
 * and synthesizes the same resources the Caretaker stack holds.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { Caretaker, type CaretakerProps } from '../../lib/caretaker.ts';
import { ConfigError } from '../../lib/config/load.ts';
import { buildStack, exampleConfig } from '../support/stack.ts';

/** A plain app (no Caretaker feature flags) that skips bundling, with one stack of a team's own. */
function teamStack() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'TeamStack');
  new sqs.Queue(stack, 'TeamQueue', { enforceSSL: true });
  return stack;
}

describe('new Caretaker(scope, id, { config })', () => {
  it('takes a config as written in JSON and applies its defaults', () => {
    const stack = teamStack();

    const caretaker = new Caretaker(stack, 'Caretaker', { config: { environment: { name: 'team' } } });

    expect(caretaker.config.schedules.cleanup.expression).toBe('cron(0 3 ? * SUN *)');
    expect(caretaker.config.logRetentionDays).toBe(30);
  });

  it('refuses a bad config with every problem at its path, before adding anything to the scope', () => {
    const stack = teamStack();
    const config = {
      environment: { name: 'team', timeZone: 'Mars/Olympus' },
      backupSets: [{ name: 'docs', sourceBucket: 'team-docs', prefix: 7, retention: 'none' }],
    };

    // As read from a file: nothing checked it yet.
    const attempt = () =>
      new Caretaker(stack, 'Caretaker', {
        config: config as unknown as CaretakerProps['config'],
        configSource: 'team.json',
      });

    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/^Invalid Caretaker config team\.json \(\d+ problems\)/);
    expect(attempt).toThrow(/environment\.timeZone: expected an IANA time zone/);
    expect(attempt).toThrow(/backupSets\[0\]\.prefix: /);
    expect(stack.node.tryFindChild('Caretaker')).toBeUndefined();
  });

  it("exposes its parts, which resolve to the stack's resources", () => {
    const stack = teamStack();

    const caretaker = new Caretaker(stack, 'Caretaker', { config: exampleConfig() });
    const template = Template.fromStack(stack);

    const machines = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'));
    const topics = Object.keys(template.findResources('AWS::SNS::Topic'));
    expect(machines).toContain(
      stack.getLogicalId(caretaker.backupFlow.stateMachine.node.defaultChild as never),
    );
    expect(topics).toEqual([stack.getLogicalId(caretaker.alerts.topic.node.defaultChild as never)]);
    template.hasResourceProperties('AWS::SQS::Queue', {});
  });

  it('makes in a plain app the resources it makes in the Caretaker stack', () => {
    const stack = teamStack();
    new Caretaker(stack, 'Caretaker', { config: exampleConfig() });
    const { template: own } = buildStack();

    // Everything but the team's queue (stack-wide singletons such as custom-resource providers
    // sit beside the construct, not in it).
    const types = (template: Template, except: string) =>
      Object.entries(template.toJSON().Resources as Record<string, { Type: string }>)
        .filter(([id]) => !except || !id.startsWith(except))
        .map(([, resource]) => resource.Type)
        .sort();

    expect(types(Template.fromStack(stack), 'TeamQueue')).toEqual(types(own, ''));
  });
});

/**
 * What every RDS operation receives, and the render context built from the runtime.
 */
import type { XmlNode } from '../../core/responses.ts';
import type { RdsInput } from './input.ts';
import type { ClusterRecord, InstanceRecord } from './model.ts';
import type { RenderContext } from './render.ts';
import type { RdsRuntime } from './runtime.ts';
import type { RdsStore } from './store.ts';

export interface OperationContext {
  /** The request's region (from its credential scope): each region is its own namespace. */
  readonly region: string;
  readonly rt: RdsRuntime;
  readonly store: RdsStore;
  readonly view: RenderContext;
}

/** An operation returns the content of its `<XResult>` element, or undefined when it has none. */
export type Operation = (
  context: OperationContext,
  input: RdsInput,
) => Promise<XmlNode | undefined> | XmlNode | undefined;

/** The render context over a runtime's records and servers. */
export function renderContext(rt: RdsRuntime): RenderContext {
  return {
    endpointPort: (record) => rt.endpointPort(record),
    members: (cluster: ClusterRecord) =>
      cluster.members
        .map((key) => rt.store.instance(key))
        .filter((m): m is InstanceRecord => m !== undefined),
    clusterOf: (instance) => (instance.clusterKey ? rt.store.cluster(instance.clusterKey) : undefined),
  };
}

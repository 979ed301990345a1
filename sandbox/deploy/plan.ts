/**
 * The order resources are created in: every resource after the ones it refers to (Ref,
 * Fn::GetAtt, Fn::Sub, DependsOn), otherwise in template order.
 */
import { referencedResources } from './intrinsics.ts';
import { type CfnTemplate, TemplateError } from './template.ts';

/** Logical ids in creation order; a reference to an undefined resource or a cycle is a TemplateError. */
export function creationOrder(template: CfnTemplate): string[] {
  const ids = Object.keys(template.Resources);
  const known = new Set(ids);
  const dependencies = new Map<string, Set<string>>();
  for (const id of ids) {
    const resource = template.Resources[id];
    const needs = referencedResources(resource?.Properties ?? {}, known);
    const dependsOn = resource?.DependsOn === undefined ? [] : [resource.DependsOn].flat();
    for (const other of dependsOn) {
      if (!known.has(other)) throw new TemplateError(`Resources.${id}.DependsOn: ${other} is not defined`);
      needs.add(other);
    }
    // A reference to something the template lacks is reported where it is resolved, with its path.
    needs.delete(id);
    dependencies.set(id, needs);
  }
  const order: string[] = [];
  const placed = new Set<string>();
  while (order.length < ids.length) {
    const ready = ids.filter(
      (id) => !placed.has(id) && [...(dependencies.get(id) ?? [])].every((other) => placed.has(other)),
    );
    if (ready.length === 0) {
      const stuck = ids.filter((id) => !placed.has(id));
      throw new TemplateError(`Circular dependency between resources: ${stuck.join(', ')}`);
    }
    for (const id of ready) {
      order.push(id);
      placed.add(id);
    }
  }
  return order;
}

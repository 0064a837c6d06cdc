import type { DiscoveryService } from '@nestjs/core';
import { DURABLE_PROVIDER } from '../background-tasks.messages.js';
import { BackgroundTasks } from '../core/background-tasks.js';
import { dependenciesOf, type InstanceWrapper, isDurable, isRequestScoped } from '../internals/nest-internals.js';

/**
 * Fails at startup for a durable provider that depends on BackgroundTasks,
 * directly or through request-scoped providers: Nest would share it across
 * the requests of a tenant, and give it the tenant's payload as REQUEST.
 */
export function assertNoDurableDependents(discovery: DiscoveryService): void {
  for (const wrapper of [...discovery.getProviders(), ...discovery.getControllers()]) {
    if (isDurable(wrapper) && dependsOnTasks(wrapper, new Set())) throw new Error(DURABLE_PROVIDER(wrapper.name as string));
  }
}

function dependsOnTasks(wrapper: InstanceWrapper, seen: Set<InstanceWrapper>): boolean {
  seen.add(wrapper);
  return dependenciesOf(wrapper).some(
    (dependency) =>
      dependency.token === BackgroundTasks ||
      // Only request-scoped providers can lead to it: a static one cannot depend on it.
      (!seen.has(dependency) && isRequestScoped(dependency) && dependsOnTasks(dependency, seen)),
  );
}

import { Inject, Injectable, Module, Scope } from '@nestjs/common';
import { PARAMTYPES_METADATA as NEST_PARAMTYPES_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryModule, DiscoveryService, ModulesContainer, REQUEST } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { PATTERN_METADATA } from '@nestjs/microservices/constants.js';
import { Test } from '@nestjs/testing';
import { GATEWAY_METADATA as NEST_GATEWAY_METADATA, MESSAGE_METADATA } from '@nestjs/websockets/constants.js';
import {
  dependenciesOf,
  GATEWAY_METADATA,
  hideParamType,
  type InstanceWrapper,
  isDurable,
  isMessageServer,
  isRequestScoped,
  isValueProvider,
  MESSAGE_PATTERN_METADATA,
  onEachRpcTarget,
  providersOf,
  WS_MESSAGE_METADATA,
} from '../../../lib/internals/nest-internals.js';

/**
 * Each Nest internal the package relies on, pinned to the real packages: a
 * Nest release that changes one fails here, by name, rather than somewhere
 * downstream. `wrapHandlersOnListen()` is pinned on Nest's real `Server`
 * class in message-answers.spec.ts, which has a loopback transport.
 */

describe('metadata keys, read without loading the optional packages', () => {
  it("are Nest's own", () => {
    expect(MESSAGE_PATTERN_METADATA).toBe(PATTERN_METADATA);
    expect(GATEWAY_METADATA).toBe(NEST_GATEWAY_METADATA);
    expect(WS_MESSAGE_METADATA).toBe(MESSAGE_METADATA);
  });
});

describe('hideParamType()', () => {
  it("changes the parameter type Nest's pipes get (TypeScript's design:paramtypes) to Object, and only that one", () => {
    expect(NEST_PARAMTYPES_METADATA).toBe('design:paramtypes');
    class Tasks {}
    class Handlers {
      handle(_id: string, _tasks: Tasks) {}
    }
    Reflect.defineMetadata(NEST_PARAMTYPES_METADATA, [String, Tasks], Handlers.prototype, 'handle');
    hideParamType(Handlers.prototype, 'handle', 1);
    expect(Reflect.getMetadata(NEST_PARAMTYPES_METADATA, Handlers.prototype, 'handle')).toEqual([String, Object]);
  });
});

describe("InstanceWrapper, as Nest's container holds providers", () => {
  const OPTIONS = 'OPTIONS';

  @Injectable({ scope: Scope.REQUEST })
  class PerRequest {}

  @Injectable({ scope: Scope.REQUEST, durable: true })
  class PerTenant {
    constructor(@Inject(REQUEST) readonly request: unknown) {}
  }

  @Injectable()
  class Singleton {}

  @Injectable({ scope: Scope.REQUEST })
  class UsesBoth {
    @Inject(PerRequest) readonly byProperty!: PerRequest;
    constructor(readonly byConstructor: Singleton) {}
  }

  @Module({
    imports: [DiscoveryModule],
    providers: [PerRequest, PerTenant, Singleton, UsesBoth, { provide: OPTIONS, useValue: {} }],
  })
  class ValueModule {}

  @Module({ providers: [{ provide: OPTIONS, useFactory: () => ({}) }] })
  class FactoryModule {}

  async function wrappers() {
    const moduleRef = await Test.createTestingModule({ imports: [ValueModule, FactoryModule] }).compile();
    const providers = moduleRef.get(DiscoveryService).getProviders();
    const of = (metatype: object) => providers.find((wrapper) => wrapper.metatype === metatype)!;
    return { moduleRef, of };
  }

  it('tells request-scoped and durable providers from singletons', async () => {
    const { of } = await wrappers();
    expect([PerRequest, PerTenant, Singleton, UsesBoth].map((metatype) => isRequestScoped(of(metatype)))).toEqual([
      true,
      true,
      false,
      true,
    ]);
    expect([PerRequest, PerTenant, Singleton].map((metatype) => isDurable(of(metatype)))).toEqual([false, true, false]);
  });

  it('lists what a provider injects, through its constructor and its properties', async () => {
    const { of } = await wrappers();
    const tokens = (wrapper: InstanceWrapper) => dependenciesOf(wrapper).map(({ token }) => token);
    expect(tokens(of(UsesBoth))).toEqual([Singleton, PerRequest]);
    expect(tokens(of(PerTenant))).toEqual([REQUEST]);
  });

  it('finds a token in every module, and tells a value provider from a factory', async () => {
    const { moduleRef } = await wrappers();
    const found = providersOf(moduleRef.get(ModulesContainer), OPTIONS);
    expect(found.map((wrapper) => isValueProvider(wrapper))).toEqual([true, false]);
  });
});

describe("ModulesContainer's RPC target registry", () => {
  it('hands over each microservice server Nest creates, before it listens: those created before subscribing too', async () => {
    @Module({})
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication();
    const seen: unknown[] = [];
    app.connectMicroservice({ transport: Transport.TCP, options: { port: 0 } });
    onEachRpcTarget(app.get(ModulesContainer), (target) => seen.push(target));
    app.connectMicroservice({ transport: Transport.TCP, options: { port: 0 } });
    expect(seen).toHaveLength(2);
    expect(seen.every(isMessageServer)).toBe(true);
    await app.close();
  });
});

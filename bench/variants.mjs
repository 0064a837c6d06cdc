// The Nest apps the bench compares. Each variant serves the same trivial JSON
// route, GET /, and differs only in how (or whether) it adds background tasks.
// Plain .mjs with decorators applied by hand, so that the server starts
// without a compile step; the library is the built package in dist/.
// Except the sample-* variants: the sample app itself, for the FastAPI comparison.
import 'reflect-metadata';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Controller, Get, Inject, Injectable, Module, Post, Req, Scope } from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory, REQUEST } from '@nestjs/core';
import { Background, BackgroundTasks, BackgroundTasksModule } from '../dist/index.js';

/** What the server counts, to prove that no task was lost. */
export const counts = { requests: 0, tasksRun: 0 };

/** The trivial task. It takes an argument, as real tasks do. */
function countTask(n) {
  counts.tasksRun += n;
}

/** The "slow" task: 100 ms of waiting, nothing for the CPU. */
async function slowTask(n) {
  await sleep(100);
  counts.tasksRun += n;
}

const OK = () => ({ ok: true });

// ---- hand-written baselines ----------------------------------------------

/** The floor for any global-interceptor design. */
class NoopInterceptor {
  intercept(_context, next) {
    return next.handle();
  }
}
Injectable()(NoopInterceptor);
const noopInterceptor = { provide: APP_INTERCEPTOR, useClass: NoopInterceptor };

/** The least code that runs tasks after the response: an array on the request, 'finish', a loop. */
function addTaskByHand(req, fn, ...args) {
  const tasks = (req.backgroundTasks ??= []);
  if (tasks.push({ fn, args }) === 1) req.res.once('finish', () => runByHand(tasks, 0));
}

/** Runs the tasks in order; awaits the async ones; a failure does not stop the rest. */
function runByHand(tasks, i) {
  for (; i < tasks.length; i++) {
    const { fn, args } = tasks[i];
    try {
      const result = fn(...args);
      if (result && typeof result.then === 'function') {
        const next = () => runByHand(tasks, i + 1);
        return result.then(next, (error) => (console.error(error), next()));
      }
    } catch (error) {
      console.error(error);
    }
  }
}

/** A hand-written request-scoped provider doing the same. */
class HandTasks {
  constructor(req) {
    this.req = req;
  }
  addTask(fn, ...args) {
    addTaskByHand(this.req, fn, ...args);
  }
}
Injectable({ scope: Scope.REQUEST })(HandTasks);
Inject(REQUEST)(HandTasks, undefined, 0);

// ---- building blocks -------------------------------------------------------

/** Declares `handler` as the controller's GET / route (or `route`), with parameter decorators. */
function controller(handler, { params = [], inject = [], route = Get('/') } = {}) {
  // Only a controller that injects something declares a constructor parameter.
  const AppController = inject.length
    ? class AppController {
        constructor(dep) {
          this.dep = dep;
        }
      }
    : class AppController {};
  AppController.prototype.hit = handler;
  params.forEach((decorator, i) => decorator(AppController.prototype, 'hit', i));
  Reflect.decorate([route], AppController.prototype, 'hit', Object.getOwnPropertyDescriptor(AppController.prototype, 'hit'));
  inject.forEach((token, i) => Inject(token)(AppController, undefined, i));
  Controller()(AppController);
  return AppController;
}

function appModule({ controllers, imports = [], providers = [], middleware }) {
  // Only a module with middleware has configure(): Nest would call it otherwise.
  const AppModule = middleware
    ? class AppModule {
        configure(consumer) {
          consumer.apply(middleware).forRoutes('*');
        }
      }
    : class AppModule {};
  Module({ imports, controllers, providers })(AppModule);
  return AppModule;
}

// Handlers. Each one counts the request; the task variants add one task.
function plain() {
  counts.requests++;
  return OK();
}
const withParam = (task) =>
  function (tasks) {
    counts.requests++;
    tasks.addTask(task, 1);
    return OK();
  };
const withReq = (task) =>
  function (req) {
    counts.requests++;
    addTaskByHand(req, task, 1);
    return OK();
  };
function withInjected() {
  counts.requests++;
  this.dep.addTask(countTask, 1);
  return OK();
}

/**
 * The sample app (sample/), as compiled by the bench into $BENCH_SAMPLE_DIR
 * against the built package; its tasks write to $LOG_FILE. It has FastAPI's
 * first example as POST /send-notification/:email.
 */
const sampleApp = (adapter) => ({
  tasksPerRequest: 1,
  usesModule: true,
  countsFromRunner: true,
  async create(options) {
    if (!process.env.BENCH_SAMPLE_DIR) throw new Error('sample-* variants need BENCH_SAMPLE_DIR (bench/run.mjs sets it)');
    const url = pathToFileURL(path.join(process.env.BENCH_SAMPLE_DIR, 'create-app.js')).href;
    const { createSampleApp } = await import(url);
    return createSampleApp(adapter, options);
  },
});

/**
 * The tracing pair: the SDK registered and a span per request (bench/tracing.mjs,
 * imported only here), and `build(kit)` the app on top.
 */
const traced = (build) => ({
  tasksPerRequest: 1,
  async create(options) {
    const kit = await import('./tracing.mjs');
    return NestFactory.create(build(kit), options);
  },
});

/**
 * A GraphQL app (Apollo on Express) whose one mutation, `hit`, counts the
 * request and adds one trivial task, as `addTask(context, tasks)` does it.
 * Loaded on demand, so that the other variants never load GraphQL. Its pair
 * in bench/run.mjs POSTs `mutation { hit }`.
 */
const graphqlApp = ({ usesModule, addTask }) => ({
  tasksPerRequest: 1,
  usesModule,
  async create(options) {
    const [{ NestFactory }, { GraphQLModule, Mutation, Resolver, Context }, { ApolloDriver }] = await Promise.all([
      import('@nestjs/core'),
      import('@nestjs/graphql'),
      import('@nestjs/apollo'),
    ]);
    class HitResolver {
      hit(context, tasks) {
        counts.requests++;
        addTask(context, tasks);
        return true;
      }
    }
    Context()(HitResolver.prototype, 'hit', 0);
    if (usesModule) Background()(HitResolver.prototype, 'hit', 1);
    Reflect.decorate([Mutation()], HitResolver.prototype, 'hit', Object.getOwnPropertyDescriptor(HitResolver.prototype, 'hit'));
    Resolver('Mutation')(HitResolver);
    const graphql = GraphQLModule.forRoot({
      driver: ApolloDriver,
      typeDefs: 'type Query { ok: Boolean } type Mutation { hit: Boolean }',
      graphiql: false,
    });
    const imports = usesModule ? [graphql, BackgroundTasksModule] : [graphql];
    return NestFactory.create(appModule({ controllers: [], imports, providers: [HitResolver] }), options);
  },
});

/**
 * An app with @nestjs-cls/transactional over PostgreSQL (Drizzle; bench/database.mjs):
 * POST / inserts a row in a transaction and adds one trivial task. With
 * `transactions: true` the task is added inside the transaction and waits for
 * its commit; without, it is added by hand once the transaction has returned,
 * as docs/transactions.md advises for a plain ORM. Loaded on demand. Its pair
 * in bench/run.mjs POSTs.
 */
const transactionApp = ({ transactions }) => ({
  tasksPerRequest: 1,
  usesModule: true,
  async create(options) {
    const [{ ClsModule }, { ClsPluginTransactional, TransactionHost }, { TransactionalAdapterDrizzleOrm }, { openDatabase }] =
      await Promise.all([
        import('nestjs-cls'),
        import('@nestjs-cls/transactional'),
        import('@nestjs-cls/transactional-adapter-drizzle-orm'),
        import('./database.mjs'),
      ]);
    const database = await openDatabase();
    async function handler(tasks) {
      counts.requests++;
      const txHost = this.dep;
      if (transactions) {
        await txHost.withTransaction(async () => {
          await database.insert(txHost.tx, 1);
          tasks.addTask(countTask, 1);
        });
      } else {
        await txHost.withTransaction(() => database.insert(txHost.tx, 1));
        tasks.addTask(countTask, 1);
      }
      return OK();
    }
    const DB = Symbol('DB');
    class DatabaseModule {
      onApplicationShutdown() {
        return database.close();
      }
    }
    Module({ providers: [{ provide: DB, useValue: database.client }], exports: [DB] })(DatabaseModule);
    const cls = ClsModule.forRoot({
      global: true,
      middleware: { mount: true },
      plugins: [
        new ClsPluginTransactional({
          imports: [DatabaseModule],
          adapter: new TransactionalAdapterDrizzleOrm({ drizzleInstanceToken: DB }),
        }),
      ],
    });
    const AppController = controller(handler, { params: [Background()], inject: [TransactionHost], route: Post('/') });
    return NestFactory.create(
      appModule({ controllers: [AppController], imports: [cls, BackgroundTasksModule.forRoot({ transactions })] }),
      options,
    );
  },
});

// ---- the variants ----------------------------------------------------------

/**
 * name → { tasksPerRequest, usesModule, build() → root module class }.
 * A `module-*` variant and its `hand-*` (or `noop`) twin differ only in the
 * module; the route, the task and the counting are the same.
 */
export const variants = {
  bare: {
    tasksPerRequest: 0,
    build: () => appModule({ controllers: [controller(plain)] }),
  },
  noop: {
    tasksPerRequest: 0,
    build: () => appModule({ controllers: [controller(plain)], providers: [noopInterceptor] }),
  },
  'module-unused': {
    tasksPerRequest: 0,
    usesModule: true,
    build: () => appModule({ controllers: [controller(plain)], imports: [BackgroundTasksModule] }),
  },
  'hand-param': {
    tasksPerRequest: 1,
    build: () => appModule({ controllers: [controller(withReq(countTask), { params: [Req()] })] }),
  },
  'module-param': {
    tasksPerRequest: 1,
    usesModule: true,
    build: () =>
      appModule({
        controllers: [controller(withParam(countTask), { params: [Background()] })],
        imports: [BackgroundTasksModule],
      }),
  },
  // For information: the hand-written variants behind a no-op global
  // interceptor, as any design that learns the outcome from one would be.
  // The module has none in an HTTP app.
  'hand-param+noop': {
    tasksPerRequest: 1,
    build: () => appModule({ controllers: [controller(withReq(countTask), { params: [Req()] })], providers: [noopInterceptor] }),
  },
  'hand-ctor+noop': {
    tasksPerRequest: 1,
    build: () =>
      appModule({ controllers: [controller(withInjected, { inject: [HandTasks] })], providers: [HandTasks, noopInterceptor] }),
  },
  'hand-ctor': {
    tasksPerRequest: 1,
    build: () => appModule({ controllers: [controller(withInjected, { inject: [HandTasks] })], providers: [HandTasks] }),
  },
  'module-ctor': {
    tasksPerRequest: 1,
    usesModule: true,
    build: () =>
      appModule({ controllers: [controller(withInjected, { inject: [BackgroundTasks] })], imports: [BackgroundTasksModule] }),
  },
  'hand-slow': {
    tasksPerRequest: 1,
    build: () => appModule({ controllers: [controller(withReq(slowTask), { params: [Req()] })] }),
  },
  'module-slow': {
    tasksPerRequest: 1,
    usesModule: true,
    build: () =>
      appModule({
        controllers: [controller(withParam(slowTask), { params: [Background()] })],
        imports: [BackgroundTasksModule],
      }),
  },
  'hand-traced': traced(({ requestSpan, tracedByHand }) =>
    appModule({
      controllers: [
        controller(
          function (req) {
            counts.requests++;
            addTaskByHand(req, tracedByHand(countTask, req.method, req.path), 1);
            return OK();
          },
          { params: [Req()] },
        ),
      ],
      middleware: requestSpan,
    }),
  ),
  'module-traced': {
    ...traced(({ requestSpan }) =>
      appModule({
        controllers: [controller(withParam(countTask), { params: [Background()] })],
        imports: [BackgroundTasksModule.forRoot({ tracing: true })],
        middleware: requestSpan,
      }),
    ),
    usesModule: true,
  },
  // GraphQL: the baseline is a resolver too, so that Nest's GraphQL layer is on both sides.
  'hand-graphql': graphqlApp({ usesModule: false, addTask: ({ req }) => addTaskByHand(req, countTask, 1) }),
  'module-graphql': graphqlApp({ usesModule: true, addTask: (_context, tasks) => tasks.addTask(countTask, 1) }),
  // Transactions (PostgreSQL): the option against the advice for a plain ORM.
  'hand-tx': transactionApp({ transactions: false }),
  'module-tx': transactionApp({ transactions: true }),
  // The FastAPI comparison: the sample itself, on each of its adapters.
  'sample-express': sampleApp('express'),
  'sample-fastify': sampleApp('fastify'),
};

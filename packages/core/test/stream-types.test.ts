import { describe, expectTypeOf, test } from "vitest";
import {
  call,
  each,
  filter,
  fromAsyncIterable,
  fromEvent,
  fromIterable,
  map,
  mapConcurrent,
  produce,
  resource,
  subscribe,
  take,
  toAsyncIterable,
  use,
  type Coroutine,
  type Stream,
  type Subscription,
} from "../src/index.js";

describe("stream types", () => {
  test("each gives the stream's element type to for…of; subscribe a Subscription of it", () => {
    function* body(): Coroutine<void> {
      const iterable = yield* each(fromIterable([1, 2]));
      expectTypeOf(iterable).toEqualTypeOf<Iterable<number>>();
      const sub = yield* subscribe(fromIterable(["a"]));
      expectTypeOf(sub).toEqualTypeOf<Subscription<string>>();
      const r = yield* sub.next();
      if (!r.done) expectTypeOf(r.value).toEqualTypeOf<string>();
    }
    expectTypeOf(body).returns.toEqualTypeOf<Coroutine<void>>();
  });

  test("combinators infer their output types; filter narrows with a type guard", () => {
    const numbers = fromIterable([1, 2, 3]);
    expectTypeOf(map(numbers, (n) => String(n))).toEqualTypeOf<Stream<string>>();
    const mixed = fromIterable<string | number>([1, "a"]);
    expectTypeOf(filter(mixed, (v): v is string => typeof v === "string")).toEqualTypeOf<Stream<string>>();
    expectTypeOf(filter(numbers, (n) => n > 1)).toEqualTypeOf<Stream<number>>();
    expectTypeOf(take(numbers, 1)).toEqualTypeOf<Stream<number>>();
    expectTypeOf(
      mapConcurrent(numbers, 2, function* (n) {
        return [n];
      }),
    ).toEqualTypeOf<Stream<number[]>>();
  });

  test("sources and the way back", () => {
    async function* gen(): AsyncGenerator<Uint8Array> {}
    expectTypeOf(fromAsyncIterable(gen())).toEqualTypeOf<Stream<Uint8Array>>();
    expectTypeOf(fromEvent<MessageEvent>(new EventTarget(), "message")).toEqualTypeOf<Stream<MessageEvent>>();
    expectTypeOf(produce<number>(function* () {})).toEqualTypeOf<Stream<number>>();
    expectTypeOf(toAsyncIterable<boolean>).returns.toEqualTypeOf<AsyncIterableIterator<boolean>>();
  });

  test("call returns the Promise's value type; use returns the resource's", () => {
    expectTypeOf(call(() => Promise.resolve(1))).toEqualTypeOf<Coroutine<number>>();
    expectTypeOf(call((signal) => fetch("http://127.0.0.1", { signal }))).toEqualTypeOf<Coroutine<Response>>();
    expectTypeOf(use(resource<string>(function* () {}))).toEqualTypeOf<Coroutine<string>>();
  });
});

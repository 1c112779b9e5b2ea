import Foundation
import Glibc
import Synchronization
import Testing
import ZeroMQ

@Suite struct ZMQEventLoopTests {
    @Test func jobsRunOnOneThreadInOrder() async throws {
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "test-loop")
        var threads: Set<UInt> = []
        var order: [Int] = []
        for index in 0..<50 {
            let (thread, value) = try await loop.perform { _ in (UInt(bitPattern: Int(bitPattern: pthread_self())), index) }
            threads.insert(thread)
            order.append(value)
        }
        #expect(threads.count == 1)
        #expect(order == Array(0..<50))
        await loop.shutdown()
        context.terminate()
    }

    /// A ROUTER owned by the loop answers clients; async code sends and receives through the
    /// loop without ever touching the socket from its own threads.
    @Test func loopOwnedRouterServesClients() async throws {
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "router-loop")
        let endpoint = try await loop.perform { state -> String in
            let (_, router) = try state.addSocket(type: .router) { socket in
                while let frames = try? socket.receiveMessage(dontWait: true) {
                    let reply = frames.map(\.bytes).dropLast() + [Array(("echo " + frames.last!.string).utf8)]
                    try? socket.send(frames: Array(reply))
                }
            }
            try router.bind("tcp://127.0.0.1:*")
            return try router.lastEndpoint()
        }
        // A client on a thread of its own, as another process would be.
        let answers = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        Thread {
            defer { done.signal() }
            guard let dealer = try? ZMQSocket(context: context, type: .dealer) else { return }
            defer { dealer.close() }
            try? dealer.set(.receiveTimeout, 5000)
            try? dealer.connect(endpoint)
            for index in 0..<20 {
                try? dealer.send(ZMQMessage(string: "ping \(index)"))
                if let frame = try? dealer.receiveFrame() { answers.withLock { $0.append(frame.string) } }
            }
        }.start()
        #expect(await waitFor(done, seconds: 10))
        #expect(answers.withLock { $0 } == (0..<20).map { "echo ping \($0)" })
        await loop.shutdown()
        context.terminate()
    }

    @Test func repeatingTimersFire() async throws {
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "timer-loop")
        let ticks = Mutex(0)
        let enough = DispatchSemaphore(value: 0)
        _ = try await loop.perform { state in
            state.addTimer(after: .milliseconds(1), repeating: .milliseconds(2)) {
                let count = ticks.withLock { value -> Int in
                    value += 1
                    return value
                }
                if count == 5 { enough.signal() }
            }
        }
        #expect(await waitFor(enough, seconds: 10))
        await loop.shutdown()
        #expect(ticks.withLock { $0 } >= 5)
        context.terminate()
    }

    @Test func shutdownClosesSocketsAndRefusesWork() async throws {
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "stopping-loop")
        _ = try await loop.perform { state in
            let (_, socket) = try state.addSocket(type: .pull) { _ in }
            try socket.bind("tcp://127.0.0.1:*")
        }
        await loop.shutdown()
        await #expect(throws: ZMQEventLoopError.stopped("stopping-loop")) {
            try await loop.perform { _ in 1 }
        }
        #expect(loop.post { _ in } == false)
        // Every socket is closed, so terminating the context returns.
        context.terminate()
    }

    /// Waits (bounded) for a semaphore on a dispatch thread, not on a cooperative one.
    func waitFor(_ semaphore: DispatchSemaphore, seconds: Double) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: semaphore.wait(timeout: .now() + seconds) == .success)
            }
        }
    }
}

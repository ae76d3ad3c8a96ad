import Foundation

extension RuncrateClient {
    /// Runs an async call from a plain thread (the Lua thread) and waits for it without occupying the
    /// Swift cooperative pool. `isCancelled` is polled while waiting (e.g. Ctrl-C); when it returns
    /// true the call is cancelled and `cancelled` is thrown. Errors are always `RuncrateError`.
    /// Must not be called from inside a Swift task.
    public func runBlocking<T: Sendable>(
        isCancelled: (@Sendable () -> Bool)? = nil,
        _ operation: @escaping @Sendable (RuncrateClient) async throws -> T
    ) throws -> T {
        if withUnsafeCurrentTask(body: { $0 != nil }) {
            throw RuncrateError.configuration("runBlocking was called from inside a Swift task; use the async methods there")
        }
        let box = BlockingBox<T>()
        let task = Task.detached { [self] in
            let result: Result<T, Error>
            do { result = .success(try await operation(self)) } catch { result = .failure(error) }
            box.finish(result)
        }
        let result = box.wait(pollingEvery: 0.05) {
            if isCancelled?() == true { task.cancel() }
        }
        switch result {
        case .success(let value): return value
        case .failure(let error as RuncrateError): throw error
        case .failure(let error as CancellationError):
            throw RuncrateError(code: .cancelled, message: "the call was cancelled (\(error))", isRetryable: false)
        case .failure(let error): throw RuncrateError(code: .networkError, message: "\(error)")
        }
    }
}

final class BlockingBox<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<T, Error>?

    func finish(_ value: Result<T, Error>) {
        condition.lock()
        result = value
        condition.broadcast()
        condition.unlock()
    }

    func wait(pollingEvery interval: Double, onTick: () -> Void) -> Result<T, Error> {
        condition.lock()
        defer { condition.unlock() }
        while result == nil {
            _ = condition.wait(until: Date().addingTimeInterval(interval))
            if result == nil {
                condition.unlock()
                onTick()
                condition.lock()
            }
        }
        return result!
    }
}

// IpcReader: reads an IPC pipe (a Unix stream socket that carries descriptors,
// SCM_RIGHTS) in chunks, each with the descriptors that came with it, as many
// chunks per wake-up as are waiting.
//
// Why not libuv's uv_read_start on the uv_pipe_t: libuv reads an IPC pipe one
// recvmsg() per loop iteration whenever that read does not fill its buffer, and
// the kernel ends every recvmsg() right after a message that carries descriptors.
// A hand-over frame (app/handover_wire.hpp) is a few hundred bytes with one
// socket, so a worker took exactly one hand-over per loop iteration. Under a login
// storm an iteration lasts tens of milliseconds, the pipes filled, and the
// supervisor held every socket it could not yet pass on until it reached its
// file limit; from then on the kernel delivered frames without their sockets
// (MSG_CTRUNC), which libuv does not report. Reading here, a wake-up drains up to
// kChunksPerWakeup chunks, and a chunk whose descriptors were cut off says so.
//
// A read shorter than the buffer that brought no descriptor has emptied the
// pipe: the wake-up ends there without one more recvmsg() to hear EAGAIN.
//
// The reader polls a duplicate of the pipe's descriptor (uv_poll_t), so the
// uv_pipe_t that owns the pipe keeps doing the writes (uv_write2) and is never
// read by libuv: epoll watches the two descriptors apart. Descriptors received
// are the receiver's from the moment the sink gets them (close-on-exec, as
// libuv's own). It knows nothing of what the bytes mean.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace sb::net {

class IpcReader {
 public:
  static constexpr std::size_t kChunksPerWakeup = 256;
  // At most this many descriptors in one chunk; the kernel stops a read after the
  // first message that carries any, and each sender sends one at a time.
  static constexpr std::size_t kMaxFdsPerChunk = 16;

  struct Chunk {
    std::string_view bytes;  // valid during the call only
    std::vector<int> fds;    // received with these bytes; the sink owns them
    bool truncated = false;  // descriptors were sent with these bytes but not received
  };
  // A chunk; return false to stop reading for this wake-up (the reader may have
  // been closed by the sink).
  using ChunkFn = std::function<bool(Chunk& chunk)>;
  // The peer closed its end (0) or reading failed (a UV_E* code). Reading has
  // stopped.
  using EndFn = std::function<void(int status)>;

  // `buffer` (`size` bytes, at least a few KB): where chunks are read, which
  // several readers of one loop may share (a chunk is consumed before the next
  // read); null: a 64 KB buffer of its own.
  explicit IpcReader(uv_loop_t* loop, char* buffer = nullptr, std::size_t size = 0);
  IpcReader(const IpcReader&) = delete;
  IpcReader& operator=(const IpcReader&) = delete;
  // close() must have been called and the loop run (or start() never succeeded).
  ~IpcReader();

  // Starts reading `fd` (not taken: a duplicate is polled). 0 or a UV_E* error.
  int start(int fd, ChunkFn on_chunk, EndFn on_end);
  // Reads what is waiting now, as a wake-up would, without waiting for one. The
  // supervisor's hang watch uses it: a worker is silent only if its pipe, read,
  // holds nothing. Returns the number of chunks read.
  std::size_t read_now();
  // Stops for good and closes the duplicate. Idempotent; the object may be
  // destroyed once the loop has run.
  void close();
  // close(), and the object deletes itself once the handle is closed (it must
  // have been made with new). For an owner that goes before the loop runs.
  void close_and_delete();
  bool reading() const { return state_ == State::kReading; }
  // Every byte received so far: where the next chunk begins in the stream.
  std::uint64_t offset() const { return offset_; }

 private:
  // kStopped: reading ended (end of stream, error), the handle still open.
  enum class State { kIdle, kReading, kStopped, kClosing, kClosed };
  static void on_poll(uv_poll_t* poll, int status, int events);
  static void on_closed(uv_handle_t* handle);
  void end(int status);

  uv_loop_t* loop_;
  uv_poll_t poll_{};
  int fd_ = -1;  // our duplicate
  State state_ = State::kIdle;
  bool delete_when_closed_ = false;
  std::uint64_t offset_ = 0;
  ChunkFn on_chunk_;
  EndFn on_end_;
  std::vector<char> own_buffer_;
  char* buffer_;
  std::size_t buffer_size_;
};

}  // namespace sb::net

// ChunkedArray: a writer-only growable array stored in fixed-size chunks (internal).
//
// Why: a std::vector of millions of entries doubles its capacity on growth, so it holds up to
// twice the memory it needs (and needs old + new during the copy). Chunks grow memory in
// 64 KiB steps and never move elements. Indexing costs one extra load (the chunk pointer),
// which stays cached for hot entries. Not thread-safe: one writer, no readers.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace poolreg::handlespace {

template <typename T, std::size_t kChunkBytes = 64 * 1024>
class ChunkedArray {
 public:
  static constexpr std::size_t kPerChunk = kChunkBytes / sizeof(T) > 0 ? kChunkBytes / sizeof(T) : 1;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](std::size_t i) noexcept { return chunks_[i / kPerChunk][i % kPerChunk]; }
  const T& operator[](std::size_t i) const noexcept { return chunks_[i / kPerChunk][i % kPerChunk]; }
  T& front() noexcept { return (*this)[0]; }
  const T& front() const noexcept { return (*this)[0]; }
  T& back() noexcept { return (*this)[size_ - 1]; }

  void push_back(const T& value) {
    // Default-initialised, not zeroed: every slot is written before it is read (push_back), and
    // zeroing a whole chunk touches all of its pages up front, 64 KiB per shard even when the
    // shard holds three PEs (7 % of the stateful fuzz target's time went to that memset and
    // its page faults).
    if (size_ == chunks_.size() * kPerChunk) chunks_.push_back(std::make_unique_for_overwrite<T[]>(kPerChunk));
    (*this)[size_] = value;
    ++size_;
  }
  void pop_back() noexcept {
    --size_;
    // Keep one spare chunk so that a size oscillating around a chunk boundary does not
    // allocate and free a chunk every time.
    if (size_ % kPerChunk == 0 && chunks_.size() > size_ / kPerChunk + 1) chunks_.pop_back();
  }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  std::size_t size_ = 0;
};

}  // namespace poolreg::handlespace

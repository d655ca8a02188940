// KeyIndex: writer-private ordered map u32 key -> pointer (a B+ tree), used by OrderedSelector
// to find a key's group and the group before it. Cache friendly where std::map is not: at 10^6
// distinct keys its nodes fit the cache levels a red-black tree of 64-byte nodes overflows.
#pragma once

#include <cstddef>
#include <cstdint>

namespace poolreg::policy {

// Single-threaded (the selector's writer). Values are opaque non-null pointers the index does
// not own. Erase never merges underfull nodes: it removes empty ones, so the height stays
// O(log of the largest size reached) and memory tracks the number of leaves ever needed.
class KeyIndex {
 public:
  KeyIndex();
  ~KeyIndex();
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;

  struct Lookup {
    void* exact = nullptr;        // value stored under the key, if present
    void* predecessor = nullptr;  // value of the largest key below it, if any
  };
  Lookup find(std::uint32_t key) const noexcept;
  void insert(std::uint32_t key, void* value);  // key must be absent
  void erase(std::uint32_t key) noexcept;       // absent keys are ignored
  std::size_t size() const noexcept { return size_; }
  std::size_t memory_bytes() const noexcept { return nodes_ * sizeof(Node); }

  // Calls f(value) for every value in key order.
  template <typename F>
  void for_each(F&& f) const {
    for_each_in(root_, height_, f);
  }

 private:
  static constexpr int kFanout = 32;
  struct Node {
    int count = 0;  // keys in a leaf; separators in an inner node (children = count + 1)
    std::uint32_t keys[kFanout];
    void* slots[kFanout + 1];  // leaf: values; inner: Node* children
  };
  struct Split {
    bool happened = false;
    std::uint32_t separator = 0;
    Node* right = nullptr;
  };

  Split insert_in(Node* node, int height, std::uint32_t key, void* value);
  bool erase_in(Node* node, int height, std::uint32_t key) noexcept;  // true: node now empty
  void destroy(Node* node, int height) noexcept;
  static void* last_value(const Node* node, int height) noexcept;
  template <typename F>
  static void for_each_in(const Node* node, int height, F& f) {
    if (height == 0) {
      for (int i = 0; i < node->count; ++i) f(node->slots[i]);
      return;
    }
    for (int i = 0; i <= node->count; ++i) for_each_in(static_cast<const Node*>(node->slots[i]), height - 1, f);
  }

  Node* root_;
  int height_ = 0;  // 0: the root is a leaf
  std::size_t size_ = 0;
  std::size_t nodes_ = 1;
};

}  // namespace poolreg::policy

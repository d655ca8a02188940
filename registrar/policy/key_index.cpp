#include "registrar/policy/key_index.hpp"

#include <algorithm>

namespace poolreg::policy {
namespace {

// First index i with keys[i] >= key (leaf) ...
int lower_index(const std::uint32_t* keys, int count, std::uint32_t key) noexcept {
  return static_cast<int>(std::lower_bound(keys, keys + count, key) - keys);
}
// ... and the child of an inner node that holds key: child i covers [keys[i-1], keys[i]).
int child_index(const std::uint32_t* keys, int count, std::uint32_t key) noexcept {
  return static_cast<int>(std::upper_bound(keys, keys + count, key) - keys);
}

}  // namespace

KeyIndex::KeyIndex() : root_(new Node) {}

KeyIndex::~KeyIndex() { destroy(root_, height_); }

void KeyIndex::destroy(Node* node, int height) noexcept {
  if (height > 0) {
    for (int i = 0; i <= node->count; ++i) destroy(static_cast<Node*>(node->slots[i]), height - 1);
  }
  delete node;
}

void* KeyIndex::last_value(const Node* node, int height) noexcept {
  for (; height > 0; --height) node = static_cast<const Node*>(node->slots[node->count]);
  return node->count > 0 ? node->slots[node->count - 1] : nullptr;
}

KeyIndex::Lookup KeyIndex::find(std::uint32_t key) const noexcept {
  Lookup result;
  const Node* node = root_;
  const Node* left = nullptr;  // subtree just left of the path, deepest one seen
  int left_height = 0;
  for (int height = height_; height > 0; --height) {
    const int i = child_index(node->keys, node->count, key);
    if (i > 0) {
      left = static_cast<const Node*>(node->slots[i - 1]);
      left_height = height - 1;
    }
    node = static_cast<const Node*>(node->slots[i]);
  }
  const int i = lower_index(node->keys, node->count, key);
  if (i < node->count && node->keys[i] == key) result.exact = node->slots[i];
  if (i > 0) {
    result.predecessor = node->slots[i - 1];
  } else if (left != nullptr) {
    result.predecessor = last_value(left, left_height);
  }
  return result;
}

void KeyIndex::insert(std::uint32_t key, void* value) {
  const Split split = insert_in(root_, height_, key, value);
  ++size_;
  if (!split.happened) return;
  auto* root = new Node;
  ++nodes_;
  root->count = 1;
  root->keys[0] = split.separator;
  root->slots[0] = root_;
  root->slots[1] = split.right;
  root_ = root;
  ++height_;
}

KeyIndex::Split KeyIndex::insert_in(Node* node, int height, std::uint32_t key, void* value) {
  std::uint32_t new_key = key;
  void* new_slot = value;
  int at;
  if (height == 0) {
    at = lower_index(node->keys, node->count, key);
  } else {
    const int child = child_index(node->keys, node->count, key);
    const Split below = insert_in(static_cast<Node*>(node->slots[child]), height - 1, key, value);
    if (!below.happened) return {};
    new_key = below.separator;
    new_slot = below.right;
    at = child;  // separator goes at keys[child], the new child right of it at slots[child + 1]
  }
  const int slot_at = height == 0 ? at : at + 1;
  const int slots = height == 0 ? node->count : node->count + 1;
  if (node->count < kFanout) {
    std::copy_backward(node->keys + at, node->keys + node->count, node->keys + node->count + 1);
    std::copy_backward(node->slots + slot_at, node->slots + slots, node->slots + slots + 1);
    node->keys[at] = new_key;
    node->slots[slot_at] = new_slot;
    ++node->count;
    return {};
  }
  // Full: build the kFanout + 1 entries in scratch, split them in two halves.
  std::uint32_t keys[kFanout + 1];
  void* all[kFanout + 2];
  std::copy(node->keys, node->keys + at, keys);
  keys[at] = new_key;
  std::copy(node->keys + at, node->keys + kFanout, keys + at + 1);
  std::copy(node->slots, node->slots + slot_at, all);
  all[slot_at] = new_slot;
  std::copy(node->slots + slot_at, node->slots + slots, all + slot_at + 1);
  auto* right = new Node;
  ++nodes_;
  Split split{true, 0, right};
  const int total = kFanout + 1;
  if (height == 0) {
    const int left_count = total / 2;
    node->count = left_count;
    right->count = total - left_count;
    std::copy(keys, keys + left_count, node->keys);
    std::copy(all, all + left_count, node->slots);
    std::copy(keys + left_count, keys + total, right->keys);
    std::copy(all + left_count, all + total, right->slots);
    split.separator = right->keys[0];
  } else {
    // keys[mid] moves up; left keeps keys [0, mid) and children [0, mid], right the rest.
    const int mid = total / 2;
    node->count = mid;
    right->count = total - mid - 1;
    std::copy(keys, keys + mid, node->keys);
    std::copy(all, all + mid + 1, node->slots);
    std::copy(keys + mid + 1, keys + total, right->keys);
    std::copy(all + mid + 1, all + total + 1, right->slots);
    split.separator = keys[mid];
  }
  return split;  // cppcheck-suppress memleak ; `right` is owned by the tree through the split
}

void KeyIndex::erase(std::uint32_t key) noexcept {
  if (erase_in(root_, height_, key) && height_ > 0) {
    // The whole tree emptied through an inner root without children left: start afresh.
    root_->count = 0;  // leaves and inner nodes share one layout: reuse it as an empty leaf
    height_ = 0;
    nodes_ = 1;
  }
  // Collapse inner roots with a single child.
  while (height_ > 0 && root_->count == 0) {
    Node* child = static_cast<Node*>(root_->slots[0]);
    delete root_;
    --nodes_;
    root_ = child;
    --height_;
  }
}

bool KeyIndex::erase_in(Node* node, int height, std::uint32_t key) noexcept {
  if (height == 0) {
    const int i = lower_index(node->keys, node->count, key);
    if (i == node->count || node->keys[i] != key) return false;
    std::copy(node->keys + i + 1, node->keys + node->count, node->keys + i);
    std::copy(node->slots + i + 1, node->slots + node->count, node->slots + i);
    --node->count;
    --size_;
    return node->count == 0;
  }
  const int child = child_index(node->keys, node->count, key);
  auto* child_node = static_cast<Node*>(node->slots[child]);
  if (!erase_in(child_node, height - 1, key)) return false;
  // Drop the empty child; no node but the root is ever left empty.
  delete child_node;
  --nodes_;
  if (node->count == 0) return true;  // it was the only child: this node is empty too
  const int key_at = child > 0 ? child - 1 : 0;  // the other bounds stay valid
  std::copy(node->keys + key_at + 1, node->keys + node->count, node->keys + key_at);
  std::copy(node->slots + child + 1, node->slots + node->count + 1, node->slots + child);
  --node->count;
  return false;
}

}  // namespace poolreg::policy

// The header's search box: completions from /api/v1/suggest as the visitor types (debounced, one
// request in flight, answers kept per prefix), in a listbox the keyboard drives: Up and Down move
// through it (aria-activedescendant), Enter searches for the one chosen, Escape closes it. Without
// JavaScript the box is a plain form to /search.
(() => {
  'use strict';
  const input = document.querySelector('.site-search__input');
  if (!input) return;
  const form = input.form;
  const list = document.getElementById(input.getAttribute('aria-controls'));
  const endpoint = input.dataset.suggest;
  const debounceMs = 150;
  const answers = new Map();  // prefix -> suggestions
  let timer = 0;
  let inFlight = null;
  let active = -1;

  const options = () => Array.from(list.children);

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };

  const choose = (text) => {
    input.value = text;
    close();
    form.submit();
  };

  const mark = (index) => {
    const items = options();
    items.forEach((item, i) => item.setAttribute('aria-selected', i === index ? 'true' : 'false'));
    active = index;
    if (index >= 0) {
      input.setAttribute('aria-activedescendant', items[index].id);
      items[index].scrollIntoView({block: 'nearest'});
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  };

  const show = (suggestions) => {
    list.replaceChildren();
    active = -1;
    suggestions.forEach((text, i) => {
      const item = document.createElement('li');
      item.id = `site-search-option-${i}`;
      item.setAttribute('role', 'option');
      item.setAttribute('aria-selected', 'false');
      item.textContent = text;
      // mousedown, not click: it comes before the input's blur closes the list.
      item.addEventListener('mousedown', (event) => {
        event.preventDefault();
        choose(text);
      });
      list.appendChild(item);
    });
    const open = suggestions.length > 0;
    list.hidden = !open;
    input.setAttribute('aria-expanded', open ? 'true' : 'false');
  };

  const fetchSuggestions = async (prefix) => {
    if (answers.has(prefix)) return show(answers.get(prefix));
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    try {
      const response = await fetch(`${endpoint}?q=${encodeURIComponent(prefix)}`,
                                   {signal: inFlight.signal, headers: {Accept: 'application/json'}});
      if (!response.ok) return close();
      const body = await response.json();
      const suggestions = Array.isArray(body.suggestions) ? body.suggestions.slice(0, 10) : [];
      answers.set(prefix, suggestions);
      if (input.value.trim() === prefix) show(suggestions);
    } catch (error) {
      if (error.name !== 'AbortError') close();
    }
  };

  input.addEventListener('input', () => {
    clearTimeout(timer);
    const prefix = input.value.trim();
    if (prefix === '') return close();
    timer = setTimeout(() => fetchSuggestions(prefix), debounceMs);
  });

  input.addEventListener('keydown', (event) => {
    const items = options();
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (list.hidden || items.length === 0) return;
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      // Past either end the focus goes back to what was typed (-1), then around.
      let next = active + step;
      if (next >= items.length) next = -1;
      else if (next < -1) next = items.length - 1;
      mark(next);
    } else if (event.key === 'Enter' && active >= 0 && !list.hidden) {
      event.preventDefault();
      choose(items[active].textContent);
    } else if (event.key === 'Escape' && !list.hidden) {
      event.preventDefault();
      close();
    }
  });

  input.addEventListener('blur', close);
})();

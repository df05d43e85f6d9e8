import { api, ApiError } from '../api.js';
import { el, field } from '../dom.js';

export function render(ctx) {
  const user = el('input', { id: 'login-user', name: 'user', type: 'text', autocomplete: 'username', required: true });
  const password = el('input', {
    id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true,
  });
  const submit = el('button', { id: 'login-submit', type: 'submit' }, 'Log in');
  const form = el('form', { id: 'login-form', class: 'card narrow', novalidate: true },
    field('User name', user), field('Password', password), submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    ctx.showError('');
    if (!user.value || !password.value) {
      ctx.showError('Enter your user name and password.');
      (user.value ? password : user).focus();
      return;
    }
    submit.disabled = true;
    ctx.setStatus('Logging in…');
    try {
      const session = await api.login(user.value, password.value);
      password.value = '';
      ctx.setStatus('');
      ctx.onLogin(session);
    } catch (e) {
      ctx.setStatus('');
      password.value = '';
      if (e instanceof ApiError && e.status === 429) {
        ctx.showError(`${e.message} (too many attempts: wait a little before trying again)`);
      } else {
        ctx.showError(e.message);
      }
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  ctx.main.append(el('h1', {}, 'Log in'), form);
}

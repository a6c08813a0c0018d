'use strict';
// The post body: under the field, the body as readers will see it once saved (Markdown and HTML rendered
// and sanitised by the admin's body preview, short codes drawn as charts), refreshed as the editor types.
{
    const DELAY = 500;

    function setUp(textarea) {
        const box = document.createElement('div');
        box.className = 'body-preview';
        const heading = document.createElement('p');
        heading.className = 'body-preview-heading';
        heading.textContent = '正文预览（保存后的样子）';
        const content = document.createElement('div');
        content.className = 'body-preview-content';
        content.setAttribute('aria-live', 'polite');
        box.append(heading, content);
        (textarea.closest('.form-row') || textarea.parentElement).append(box);

        let timer;
        let asked = 0;
        async function refresh() {
            const mine = ++asked;
            const data = new FormData();
            data.append('body', textarea.value);
            data.append('csrfmiddlewaretoken', textarea.form.querySelector('[name=csrfmiddlewaretoken]').value);
            let html;
            try {
                const response = await fetch(textarea.dataset.previewUrl, {
                    method: 'POST',
                    body: data,
                    credentials: 'same-origin',
                    headers: {Accept: 'application/json'},
                });
                if (!response.ok) {
                    throw new Error(response.statusText);
                }
                html = (await response.json()).html;
            } catch (error) {
                html = null;
            }
            if (mine !== asked) {
                return;  // a later keystroke's preview is on its way
            }
            if (html === null) {
                content.textContent = '暂时无法预览';
            } else {
                // Sanitised by the same allow-list as the article page.
                content.innerHTML = html;
            }
        }

        textarea.addEventListener('input', () => {
            clearTimeout(timer);
            timer = setTimeout(refresh, DELAY);
        });
        refresh();
    }

    function start() {
        document.querySelectorAll('textarea[data-preview-url]').forEach(setUp);
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
}
